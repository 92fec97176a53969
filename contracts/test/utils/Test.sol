// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice The forge cheatcodes these tests use, and nothing else. Each declaration matches the
/// signature forge implements at the cheatcode address; the `assert*` ones revert on failure, which
/// is what fails a test.
interface Vm {
    /// @notice Gas spent by the last call, as `lastCallGas` reports it.
    struct Gas {
        uint64 gasLimit;
        uint64 gasTotalUsed;
        uint64 gasMemoryUsed; // deprecated by forge, kept for the ABI layout
        int64 gasRefunded;
        uint64 gasRemaining;
    }

    /// @notice A log captured between `recordLogs` and `getRecordedLogs`.
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    // callers and environment
    function prank(address msgSender) external;
    function startPrank(address msgSender) external;
    function stopPrank() external;
    function warp(uint256 newTimestamp) external;
    function deal(address account, uint256 newBalance) external;
    function chainId(uint256 newChainId) external;
    function load(address target, bytes32 slot) external view returns (bytes32 data);

    // expectations
    function expectRevert(bytes calldata revertData) external;
    function expectEmit(address emitter) external;

    // introspection
    function lastCallGas() external view returns (Gas memory gas);
    function recordLogs() external;
    function getRecordedLogs() external view returns (Log[] memory logs);

    // fuzzing and accounts
    function assume(bool condition) external pure;
    function addr(uint256 privateKey) external pure returns (address keyAddr);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function label(address account, string calldata newLabel) external;

    // assertions
    function assertTrue(bool condition) external pure;
    function assertFalse(bool condition) external pure;
    function assertFalse(bool condition, string calldata err) external pure;
    function assertEq(bool left, bool right) external pure;
    function assertEq(uint256 left, uint256 right) external pure;
    function assertEq(uint256 left, uint256 right, string calldata err) external pure;
    function assertEq(address left, address right) external pure;
    function assertEq(bytes32 left, bytes32 right) external pure;
    function assertNotEq(bytes32 left, bytes32 right) external pure;
    function assertEq(string calldata left, string calldata right) external pure;
    function assertEq(bytes calldata left, bytes calldata right) external pure;
    function assertLe(uint256 left, uint256 right, string calldata err) external pure;
}

/// @notice Logging to forge's console (shown with `forge test -vv`). Only the forms the tests use.
library console {
    address internal constant CONSOLE_ADDRESS = 0x000000000000000000636F6e736F6c652e6c6f67;

    function log(string memory s) internal view {
        _send(abi.encodeWithSignature("log(string)", s));
    }

    function log(string memory s, uint256 a) internal view {
        _send(abi.encodeWithSignature("log(string,uint256)", s, a));
    }

    function log(string memory s, string memory a, uint256 b) internal view {
        _send(abi.encodeWithSignature("log(string,string,uint256)", s, a, b));
    }

    function log(string memory s, string memory a, uint256 b, uint256 c) internal view {
        _send(abi.encodeWithSignature("log(string,string,uint256,uint256)", s, a, b, c));
    }

    /// @dev Nothing is deployed at the console address; forge intercepts the call. The result is
    /// ignored on purpose so that logging can never change what a test does.
    function _send(bytes memory payload) private view {
        (bool ok,) = CONSOLE_ADDRESS.staticcall(payload);
        ok;
    }
}

/// @notice Base for the test, fixture and invariant-handler contracts: cheatcodes, assertions, named
/// addresses, bounded fuzz inputs and invariant targets.
abstract contract Test {
    address internal constant VM_ADDRESS = 0x7109709ECfa91a80626fF3989D68f67F5b1DD12D;
    Vm internal constant vm = Vm(VM_ADDRESS);

    address[] private _targetContracts;

    // ------------------------------------------------------------ assertions

    function assertTrue(bool condition) internal pure {
        vm.assertTrue(condition);
    }

    function assertFalse(bool condition) internal pure {
        vm.assertFalse(condition);
    }

    function assertFalse(bool condition, string memory err) internal pure {
        vm.assertFalse(condition, err);
    }

    function assertEq(bool left, bool right) internal pure {
        vm.assertEq(left, right);
    }

    function assertEq(uint256 left, uint256 right) internal pure {
        vm.assertEq(left, right);
    }

    function assertEq(uint256 left, uint256 right, string memory err) internal pure {
        vm.assertEq(left, right, err);
    }

    function assertEq(address left, address right) internal pure {
        vm.assertEq(left, right);
    }

    function assertEq(bytes32 left, bytes32 right) internal pure {
        vm.assertEq(left, right);
    }

    function assertNotEq(bytes32 left, bytes32 right) internal pure {
        vm.assertNotEq(left, right);
    }

    function assertEq(string memory left, string memory right) internal pure {
        vm.assertEq(left, right);
    }

    function assertEq(bytes memory left, bytes memory right) internal pure {
        vm.assertEq(left, right);
    }

    function assertLe(uint256 left, uint256 right, string memory err) internal pure {
        vm.assertLe(left, right, err);
    }

    // ------------------------------------------------------------ helpers

    /// @notice A deterministic address for `name`, labelled with it in traces.
    function makeAddr(string memory name) internal returns (address account) {
        account = vm.addr(uint256(keccak256(bytes(name))));
        vm.label(account, name);
    }

    /// @notice Like `makeAddr`, with the private key, for accounts that sign.
    function makeAddrAndKey(string memory name) internal returns (address account, uint256 privateKey) {
        privateKey = uint256(keccak256(bytes(name)));
        account = vm.addr(privateKey);
        vm.label(account, name);
    }

    /// @notice Maps a fuzzed `x` into [min, max]. Values already in range are kept, values below the
    /// range wrap up from `min` and values above it wrap down from `max`, so the fuzzer's edge cases
    /// (0, 1, ..., type(uint256).max - 1, type(uint256).max) land on the edges of the range.
    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        require(min <= max, "bound: min > max");
        if (x >= min && x <= max) return x; // includes the full range [0, type(uint256).max]
        uint256 size = max - min + 1; // cannot overflow: the full range returned above
        if (x < min) return min + x % size;
        return max - (type(uint256).max - x) % size;
    }

    // ------------------------------------------------------------ invariant targets

    /// @notice Restricts invariant fuzzing to the given contracts (forge reads `targetContracts`).
    function targetContract(address target) internal {
        _targetContracts.push(target);
    }

    function targetContracts() public view returns (address[] memory) {
        return _targetContracts;
    }
}
