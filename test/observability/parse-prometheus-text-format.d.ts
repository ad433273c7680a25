// The package ships no types: what it returns is described where it is used (test/observability/prom.ts).
declare module 'parse-prometheus-text-format' {
  export default function parsePrometheusTextFormat(text: string): unknown[];
}
