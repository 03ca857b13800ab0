// The test command runs on the Node 24 that the install put in node_modules/.bin;
// fail loudly if some other node was picked up (e.g. PATH set up differently).
const major = Number(process.versions.node.split('.')[0])
if (major !== 24) {
  process.stderr.write(`expected Node.js 24 from node_modules/.bin, got ${process.version} (${process.execPath})\n`)
  process.exit(1)
}
process.stdout.write(`node ${process.version} (${process.execPath})\n`)
