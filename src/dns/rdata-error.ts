/** Rdata that does not parse or decode, said plainly (e.g. `A: "300.1.2.3" is not an IPv4 address`). */
export class RdataError extends Error {}
