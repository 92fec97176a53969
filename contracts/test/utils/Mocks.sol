// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IComputeMarket} from "../../src/interfaces/IComputeMarket.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @notice An account (provider, buyer or fee recipient) that can be told to reject ETH.
contract Receiver {
    bool public accepts = true;

    function setAccepts(bool value) external {
        accepts = value;
    }

    /// @notice Act as this account: lets tests call the market from a contract account.
    function exec(address target, uint256 value, bytes calldata data) external payable returns (bytes memory) {
        (bool ok, bytes memory ret) = target.call{value: value}(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        return ret;
    }

    receive() external payable {
        require(accepts, "Receiver: rejects ETH");
    }
}

/// @notice A receiver that burns all the gas it is given.
contract GasBurner {
    receive() external payable {
        while (true) {}
    }
}

/// @notice A receiver that, when paid, tries to call back into the market (`data`) and records how
/// that went; it accepts the payment either way unless told to bubble the failure up.
contract ReentrantReceiver {
    IComputeMarket public immutable market;
    bytes public data;
    uint256 public value;
    bool public attempted;
    bool public succeeded;
    bytes public returned;

    constructor(IComputeMarket market_) {
        market = market_;
    }

    function arm(bytes calldata data_, uint256 value_) external {
        data = data_;
        value = value_;
    }

    function exec(address target, uint256 value_, bytes calldata data_) external payable returns (bytes memory) {
        (bool ok, bytes memory ret) = target.call{value: value_}(data_);
        require(ok, "ReentrantReceiver: exec failed");
        return ret;
    }

    receive() external payable {
        if (data.length == 0 || attempted) return;
        attempted = true;
        (succeeded, returned) = address(market).call{value: value}(data);
    }
}

/// @notice An ERC-20 that can be told to fail transfers (revert, or return false) to chosen accounts,
/// the way blocklisting stablecoins do.
contract FaultyToken is ERC20 {
    enum Mode {
        Revert,
        ReturnFalse
    }

    mapping(address => bool) public blocked;
    Mode public mode;

    constructor() ERC20("Faulty", "FLT") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setBlocked(address account, bool value) external {
        blocked[account] = value;
    }

    function setMode(Mode value) external {
        mode = value;
    }

    function transfer(address to, uint256 amount) public override returns (bool) {
        if (blocked[to]) {
            if (mode == Mode.Revert) revert("FaultyToken: blocked");
            return false;
        }
        return super.transfer(to, amount);
    }
}

/// @notice An ERC-20 that calls back into the market from inside `transferFrom` and `transfer`
/// (a hostile token a provider might list), recording whether the call got through.
contract ReentrantToken is ERC20 {
    address public immutable market;
    bytes public data;
    bool public attempted;
    bool public succeeded;
    bytes public returned;

    constructor(address market_) ERC20("Reentrant", "RNT") {
        market = market_;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function arm(bytes calldata data_) external {
        data = data_;
        attempted = false;
    }

    function _update(address from, address to, uint256 amount) internal override {
        if (data.length != 0 && !attempted && (from == market || to == market)) {
            attempted = true;
            (succeeded, returned) = market.call(data);
        }
        super._update(from, to, amount);
    }
}

/// @notice An ERC-20 that keeps a cut of every transfer between accounts (fee-on-transfer): the
/// receiver gets `amount - amount * feeBps / 10_000`. The markets must refuse it.
contract FeeOnTransferToken is ERC20 {
    uint256 public feeBps;

    constructor(uint256 feeBps_) ERC20("Taxed", "TAX") {
        feeBps = feeBps_;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setFeeBps(uint256 value) external {
        feeBps = value;
    }

    function _update(address from, address to, uint256 amount) internal override {
        uint256 fee = from == address(0) || to == address(0) ? 0 : amount * feeBps / 10_000;
        if (fee != 0) super._update(from, address(0), fee);
        super._update(from, to, amount - fee);
    }
}

/// @notice A contract account that can receive nothing and call nothing: it rejects ETH and has no way
/// to call `withdraw`. Its owner key signs for it through ERC-1271, which is how its owed payouts leave.
contract Erc1271Vault is IERC1271 {
    address public immutable owner;

    constructor(address owner_) {
        owner = owner_;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == owner) return IERC1271.isValidSignature.selector;
        return 0xffffffff;
    }
}
