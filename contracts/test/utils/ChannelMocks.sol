// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @notice A minimal ERC-1271 contract wallet: approves a digest signed by its `owner` key while it is
/// not revoked. It can act (open channels, receive ETH) through `exec`.
contract SmartWallet is IERC1271 {
    address public immutable owner;
    bool public revoked;

    constructor(address owner_) {
        owner = owner_;
    }

    function setRevoked(bool value) external {
        require(msg.sender == owner, "SmartWallet: not owner");
        revoked = value;
    }

    function exec(address target, uint256 value, bytes calldata data) external payable returns (bytes memory) {
        require(msg.sender == owner, "SmartWallet: not owner");
        (bool ok, bytes memory ret) = target.call{value: value}(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        return ret;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, signature);
        if (!revoked && err == ECDSA.RecoverError.NoError && recovered == owner) {
            return IERC1271.isValidSignature.selector;
        }
        return 0xffffffff;
    }

    receive() external payable {}
}

/// @notice A contract "signer" that approves every signature: what a careless payer could pick. Used to
/// show that the ERC-1271 path is the signer's to decide, and that ECDSA checks do not apply to it.
contract ApproveAll is IERC1271 {
    function isValidSignature(bytes32, bytes calldata) external pure returns (bytes4) {
        return IERC1271.isValidSignature.selector;
    }
}

/// @notice An account that, when paid ETH, calls `target` with `data` (and `value` of its ETH) once and
/// records how that went; it accepts the payment either way. It can act as a payer or payee through `exec`.
contract ReentrantAccount {
    address public target;
    bytes public data;
    uint256 public value;
    bool public attempted;
    bool public succeeded;
    bytes public returned;

    function arm(address target_, bytes calldata data_, uint256 value_) external {
        target = target_;
        data = data_;
        value = value_;
        attempted = false;
    }

    function exec(address to, uint256 amount, bytes calldata callData) external payable returns (bytes memory) {
        (bool ok, bytes memory ret) = to.call{value: amount}(callData);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        return ret;
    }

    receive() external payable {
        if (data.length == 0 || attempted) return;
        attempted = true;
        (succeeded, returned) = target.call{value: value}(data);
    }
}
