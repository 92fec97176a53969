// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "./Test.sol";

/// @notice Signs `withdrawTo` requests for any contract built on the Payouts base, hashing the EIP-712
/// `Withdrawal` from its definition (independently of the contract's `hashWithdrawal`).
abstract contract WithdrawalSigner is Test {
    bytes32 internal constant EIP712_DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant WITHDRAWAL_TYPEHASH =
        keccak256("Withdrawal(address account,address token,address to,uint256 nonce,uint256 deadline)");

    function _withdrawalDigest(
        address verifyingContract,
        string memory name,
        address account,
        address asset,
        address to,
        uint256 nonce,
        uint256 deadline
    ) internal view returns (bytes32) {
        bytes32 domain = keccak256(
            abi.encode(EIP712_DOMAIN_TYPEHASH, keccak256(bytes(name)), keccak256("1"), block.chainid, verifyingContract)
        );
        bytes32 structHash = keccak256(abi.encode(WITHDRAWAL_TYPEHASH, account, asset, to, nonce, deadline));
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    function _signWithdrawalFor(
        address verifyingContract,
        string memory name,
        uint256 key,
        address account,
        address asset,
        address to,
        uint256 nonce,
        uint256 deadline
    ) internal view returns (bytes memory) {
        bytes32 digest = _withdrawalDigest(verifyingContract, name, account, asset, to, nonce, deadline);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }
}
