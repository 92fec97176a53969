// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test, Vm, console} from "./Test.sol";

contract GasMeterNoop {
    function noop() external {}
}

/// @notice Turns the gas of the last call into what its transaction would cost (21,000 intrinsic +
/// calldata + execution - refund) and checks it against a budget. Each test function is one fresh
/// transaction, so every account and slot the measured call touches starts cold: touch nothing of the
/// contract under test in the same test function before the measured call.
abstract contract GasMeter is Test {
    GasMeterNoop private _noop = new GasMeterNoop();

    /// @dev Gas of the last call as a transaction: intrinsic + calldata + execution - refund.
    /// Under `--isolate` (which `--gas-report` turns on) forge runs each call as its own transaction
    /// and reports that transaction's gas, intrinsic cost and refund included.
    function _checkBudget(string memory label, bytes memory data, uint256 budget) internal returns (uint256 used) {
        Vm.Gas memory gas = vm.lastCallGas();
        used = gas.gasTotalUsed;
        if (!_isolated()) {
            uint256 calldataGas;
            for (uint256 i; i < data.length; ++i) {
                calldataGas += data[i] == 0 ? 4 : 16;
            }
            used += 21_000 + calldataGas;
            uint256 refund = gas.gasRefunded > 0 ? uint256(uint64(gas.gasRefunded)) : 0;
            uint256 maxRefund = used / 5;
            used -= refund < maxRefund ? refund : maxRefund;
        }
        console.log("%s: %d gas (budget %d)", label, used, budget);
        assertLe(used, budget, label);
    }

    /// @dev Whether calls run as separate transactions: then even an empty call costs 21,000.
    function _isolated() private returns (bool) {
        _noop.noop();
        return vm.lastCallGas().gasTotalUsed >= 21_000;
    }
}
