// The contracts' ABIs come from the committed artifacts the Rust bindings are built from, so the
// page and the node can never disagree about a signature. Only `abi` is imported: the bytecode
// stays out of the bundle.
import type { Abi } from "viem";
import { abi as computeMarket } from "../../../crates/chain/artifacts/ComputeMarket.json";
import { abi as marketToken } from "../../../crates/chain/artifacts/MarketToken.json";

export const computeMarketAbi = computeMarket as Abi;
export const marketTokenAbi = marketToken as Abi;

/// The zero address stands for native ETH in a service's `token`.
export const ETH_TOKEN = "0x0000000000000000000000000000000000000000";
