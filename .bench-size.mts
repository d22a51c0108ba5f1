import { build } from 'esbuild';
import { REQUIRE_SHIM } from './test/helpers/button-bundle';
const r = await build({ entryPoints: ['lambda/button-click.ts'], bundle: true, platform: 'node', target: 'node22', format: 'esm', minify: true, write: false, mainFields: ['module','main'], banner: { js: REQUIRE_SHIM }, external: ['@aws-sdk/*', './button-protocols.mjs'], metafile: true, outfile: 'x.mjs' });
console.log(r.outputFiles.map(f => `${f.path} ${(f.contents.length/1024).toFixed(1)} KiB`).join('\n'));
const inputs = Object.entries(r.metafile.outputs)[0][1].inputs;
for (const [k,v] of Object.entries(inputs).sort((a,b)=>b[1].bytesInOutput-a[1].bytesInOutput).slice(0,40)) console.log(String(v.bytesInOutput).padStart(7), k);
