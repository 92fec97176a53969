//! The parts of PoCo's interface Agora calls, written out by hand from PoCo 6.1.0's sources (the
//! hub is a diamond: one address answering every facet's functions). Structs mirror
//! `IexecLibCore_v5` and `IexecLibOrders_v5` field for field, so ABI encoding and EIP-712 hashing
//! match the contracts'.
#![allow(clippy::too_many_arguments)]

use alloy::sol;

sol! {
    /// `IexecLibOrders_v5.AppOrder`; field order is the EIP-712 type's.
    #[derive(Debug, PartialEq, Eq)]
    struct AppOrder {
        address app;
        uint256 appprice;
        uint256 volume;
        bytes32 tag;
        address datasetrestrict;
        address workerpoolrestrict;
        address requesterrestrict;
        bytes32 salt;
    }

    #[derive(Debug, PartialEq, Eq)]
    struct DatasetOrder {
        address dataset;
        uint256 datasetprice;
        uint256 volume;
        bytes32 tag;
        address apprestrict;
        address workerpoolrestrict;
        address requesterrestrict;
        bytes32 salt;
    }

    #[derive(Debug, PartialEq, Eq)]
    struct WorkerpoolOrder {
        address workerpool;
        uint256 workerpoolprice;
        uint256 volume;
        bytes32 tag;
        uint256 category;
        uint256 trust;
        address apprestrict;
        address datasetrestrict;
        address requesterrestrict;
        bytes32 salt;
    }

    #[derive(Debug, PartialEq, Eq)]
    struct RequestOrder {
        address app;
        uint256 appmaxprice;
        address dataset;
        uint256 datasetmaxprice;
        address workerpool;
        uint256 workerpoolmaxprice;
        address requester;
        uint256 volume;
        bytes32 tag;
        uint256 category;
        uint256 trust;
        address beneficiary;
        address callback;
        string params;
        bytes32 salt;
    }
}

sol! {
    /// The iExec hub (PoCo's diamond), as far as Agora uses it.
    #[sol(rpc)]
    #[derive(Debug)]
    interface IexecHub {
        struct Category { string name; string description; uint256 workClockTimeRef; }
        struct Resource { address pointer; address owner; uint256 price; }
        struct Deal {
            Resource app;
            Resource dataset;
            Resource workerpool;
            uint256 trust;
            uint256 category;
            bytes32 tag;
            address requester;
            address beneficiary;
            address callback;
            string params;
            uint256 startTime;
            uint256 botFirst;
            uint256 botSize;
            uint256 workerStake;
            uint256 schedulerRewardRatio;
            address sponsor;
        }
        struct Task {
            uint8 status;
            bytes32 dealid;
            uint256 idx;
            uint256 timeref;
            uint256 contributionDeadline;
            uint256 revealDeadline;
            uint256 finalDeadline;
            bytes32 consensusValue;
            uint256 revealCounter;
            uint256 winnerCounter;
            address[] contributors;
            bytes32 resultDigest;
            bytes results;
            uint256 resultsTimestamp;
            bytes resultsCallback;
        }
        struct Contribution { uint8 status; bytes32 resultHash; bytes32 resultSeal; address enclaveChallenge; uint256 weight; }
        struct Account { uint256 stake; uint256 locked; }
        struct EIP712Domain { string name; string version; uint256 chainId; address verifyingContract; }
        struct AppInfo { address owner; string m_appName; string m_appType; bytes m_appMultiaddr; bytes32 m_appChecksum; bytes m_appMREnclave; }
        struct SignedAppOrder {
            address app; uint256 appprice; uint256 volume; bytes32 tag;
            address datasetrestrict; address workerpoolrestrict; address requesterrestrict; bytes32 salt; bytes sign;
        }
        struct SignedDatasetOrder {
            address dataset; uint256 datasetprice; uint256 volume; bytes32 tag;
            address apprestrict; address workerpoolrestrict; address requesterrestrict; bytes32 salt; bytes sign;
        }
        struct SignedWorkerpoolOrder {
            address workerpool; uint256 workerpoolprice; uint256 volume; bytes32 tag; uint256 category; uint256 trust;
            address apprestrict; address datasetrestrict; address requesterrestrict; bytes32 salt; bytes sign;
        }
        struct SignedRequestOrder {
            address app; uint256 appmaxprice; address dataset; uint256 datasetmaxprice; address workerpool;
            uint256 workerpoolmaxprice; address requester; uint256 volume; bytes32 tag; uint256 category;
            uint256 trust; address beneficiary; address callback; string params; bytes32 salt; bytes sign;
        }

        // Poco1: matching orders into a deal.
        event SchedulerNotice(address indexed workerpool, bytes32 dealid);
        event OrdersMatched(bytes32 dealid, bytes32 appHash, bytes32 datasetHash, bytes32 workerpoolHash, bytes32 requestHash, uint256 volume);
        function matchOrders(SignedAppOrder apporder, SignedDatasetOrder datasetorder, SignedWorkerpoolOrder workerpoolorder, SignedRequestOrder requestorder) external returns (bytes32);

        // Poco2: tasks.
        event TaskInitialize(bytes32 indexed taskid, address indexed workerpool);
        event TaskContribute(bytes32 indexed taskid, address indexed worker, bytes32 hash);
        event TaskConsensus(bytes32 indexed taskid, bytes32 consensus);
        event TaskReveal(bytes32 indexed taskid, address indexed worker, bytes32 digest);
        event TaskFinalize(bytes32 indexed taskid, bytes results);
        event TaskClaimed(bytes32 indexed taskid);
        function initialize(bytes32 dealid, uint256 idx) external returns (bytes32);
        function contributeAndFinalize(bytes32 taskid, bytes32 resultDigest, bytes results, bytes resultsCallback, address enclaveChallenge, bytes enclaveSign, bytes authorizationSign) external;
        function claim(bytes32 taskid) external;

        // Accessors.
        function viewDeal(bytes32 id) external view returns (Deal memory);
        function viewTask(bytes32 id) external view returns (Task memory);
        function viewContribution(bytes32 taskid, address worker) external view returns (Contribution memory);
        function viewConsumed(bytes32 id) external view returns (uint256);
        function viewAccount(address account) external view returns (Account memory);
        function viewCategory(uint256 catid) external view returns (Category memory);
        function viewApp(address app) external view returns (AppInfo memory);
        function countCategory() external view returns (uint256);
        function token() external view returns (address);
        function appregistry() external view returns (address);
        function datasetregistry() external view returns (address);
        function workerpoolregistry() external view returns (address);
        function eip712domain_separator() external view returns (bytes32);
        function final_deadline_ratio() external view returns (uint256);
        function workerpool_stake_ratio() external view returns (uint256);

        // Configuration and categories (owner only).
        function configure(address token, string name, string symbol, uint8 decimals, address appregistry, address datasetregistry, address workerpoolregistry, address v3hub) external;
        function domain() external view returns (EIP712Domain memory);
        event CreateCategory(uint256 catid, string name, string description, uint256 workClockTimeRef);
        function createCategory(string name, string description, uint256 workClockTimeRef) external returns (uint256);

        // ERC-20 view of iExec accounts (staked RLC, 9 decimals) and the token escrow.
        function name() external view returns (string memory);
        function symbol() external view returns (string memory);
        function decimals() external view returns (uint8);
        function balanceOf(address account) external view returns (uint256);
        function frozenOf(address account) external view returns (uint256);
        function deposit(uint256 amount) external returns (bool);
        function depositFor(uint256 amount, address target) external returns (bool);
        function withdraw(uint256 amount) external returns (bool);

        // The diamond itself.
        struct FacetCut { address facetAddress; uint8 action; bytes4[] functionSelectors; }
        function diamondCut(FacetCut[] cuts, address init, bytes initCalldata) external;
        function facetAddress(bytes4 selector) external view returns (address);
        function owner() external view returns (address);
    }
}

sol! {
    /// The diamond's constructor arguments.
    struct DiamondArgs { address owner; address init; bytes initCalldata; }
    /// `IDiamond.FacetCut`.
    struct DiamondFacetCut { address facetAddress; uint8 action; bytes4[] functionSelectors; }
}

sol! {
    /// The RLC token (ERC-20, 9 decimals).
    #[sol(rpc)]
    #[derive(Debug)]
    interface Rlc {
        function balanceOf(address owner) external view returns (uint256);
        function transfer(address to, uint256 value) external returns (bool);
        function approve(address spender, uint256 value) external returns (bool);
        function allowance(address owner, address spender) external view returns (uint256);
        function decimals() external view returns (uint8);
        function symbol() external view returns (string memory);
    }
}

sol! {
    /// App, dataset and workerpool registries (ERC-721; an entry's token id is its address).
    #[sol(rpc)]
    #[derive(Debug)]
    interface Registry {
        function initialize(address previous) external;
        function setBaseURI(string baseURI) external;
        function isRegistered(address entry) external view returns (bool);
        function owner() external view returns (address);
        function balanceOf(address owner) external view returns (uint256);
        function tokenOfOwnerByIndex(address owner, uint256 index) external view returns (uint256);
        function createApp(address owner, string name, string appType, bytes multiaddr, bytes32 checksum, bytes mrenclave) external returns (address);
        function predictApp(address owner, string name, string appType, bytes multiaddr, bytes32 checksum, bytes mrenclave) external view returns (address);
        function createWorkerpool(address owner, string description) external returns (address);
        function predictWorkerpool(address owner, string description) external view returns (address);
    }
}

sol! {
    /// A registered workerpool.
    #[sol(rpc)]
    #[derive(Debug)]
    interface Workerpool {
        function owner() external view returns (address);
        function m_workerpoolDescription() external view returns (string memory);
        function m_workerStakeRatioPolicy() external view returns (uint256);
        function m_schedulerRewardRatioPolicy() external view returns (uint256);
    }
}
