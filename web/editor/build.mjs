// Bundles editor.js into one ES module: node web/editor/build.mjs <outfile>.
// codemirror-json-schema renders schema descriptions as Markdown and loads the shiki syntax
// highlighter (about 300 KB minified) for code blocks in them; pipeline schema descriptions have
// no code blocks, so shiki is replaced by a highlighter that never loads (Markdown still renders).
import * as esbuild from 'esbuild';

const noShiki = {
  name: 'no-shiki',
  setup(build) {
    build.onResolve({ filter: /^(shiki|@shikijs)(\/|$)/ }, (args) => ({ path: args.path, namespace: 'no-shiki' }));
    build.onLoad({ filter: /.*/, namespace: 'no-shiki' }, () => ({
      contents: 'export default {};\n' +
        'export function createHighlighterCore() { return new Promise(() => {}); }\n' +
        'export function fromHighlighter() { return () => {}; }\n',
      loader: 'js',
    }));
  },
};

await esbuild.build({
  entryPoints: [new URL('./editor.js', import.meta.url).pathname],
  bundle: true,
  format: 'esm',
  minify: true,
  target: 'es2020',
  legalComments: 'eof',
  outfile: process.argv[2],
  plugins: [noShiki],
  logLevel: 'warning',
});
