// Files the Worker bundles as text (import ... with { type: "text" }): wrangler's esbuild inlines them as strings.
declare module "*.html" {
  const text: string;
  export default text;
}
declare module "*.css" {
  const text: string;
  export default text;
}
declare module "tus-js-client/dist/tus.min.js" {
  const text: string;
  export default text;
}
declare module "*/upload-page.js" {
  const text: string;
  export default text;
}
declare module "*/file-check.js" {
  const text: string;
  export default text;
}
declare module "*/ffmpeg/dist/umd/ffmpeg.js" {
  const text: string;
  export default text;
}
declare module "*/ffmpeg/dist/umd/814.ffmpeg.js" {
  const text: string;
  export default text;
}
