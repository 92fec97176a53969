// The contracts' ABIs, generated as `as const` literals (scripts/gen.mjs) from the committed
// artifacts the Rust bindings are built from, so the page and the node never disagree about a
// signature and viem checks every function name, argument and result type at compile time.
export { computeMarketAbi, dataMarketAbi, federatedMarketAbi, marketTokenAbi, paymentChannelAbi } from "../generated/abi";

/// The zero address stands for native ETH in a service's `token`.
export const ETH_TOKEN = "0x0000000000000000000000000000000000000000";
