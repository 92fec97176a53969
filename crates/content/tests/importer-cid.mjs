// Prints the root CID that the npm package `ipfs-unixfs-importer` computes for a file, with the
// options `ipfs add --cid-version=1 --raw-leaves` uses: CIDv1, raw leaves, fixed 262144-byte
// chunks, balanced layout with at most 174 links per node, a single leaf reduced to itself.
// Blocks go to an in-memory blockstore. Usage: node importer-cid.mjs <path>
import { createReadStream } from 'node:fs'
import { MemoryBlockstore } from 'blockstore-core'
import { importer } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'

const path = process.argv[2]
if (path === undefined) {
  console.error('usage: node importer-cid.mjs <path>')
  process.exit(2)
}

const options = {
  cidVersion: 1,
  rawLeaves: true,
  chunker: fixedSize({ chunkSize: 262144 }),
  layout: balanced({ maxChildrenPerNode: 174 }),
  reduceSingleLeafToSelf: true
}

let root
for await (const entry of importer([{ content: createReadStream(path) }], new MemoryBlockstore(), options)) {
  root = entry.cid
}
if (root === undefined) {
  console.error('the importer produced no entry')
  process.exit(1)
}
console.log(root.toString())
