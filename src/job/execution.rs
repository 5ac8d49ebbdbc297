//! The model of one execution: everything [`super::plan`] decides before
//! anything is fetched or run, and how the runner writes its results.

use super::progress::Progress;
use crate::cancel::CancelToken;
use crate::engine::compiled::CompiledModules;
use crate::engine::Limits;
use crate::host::deterministic::Settings;
use crate::host::net::Policy;
use crate::inputs::deadline::TimeBudget;
use crate::inputs::InputSource;
use crate::outputs::live::LiveSink;
use crate::outputs::publish::Publisher;
use crate::outputs::summary::Placement;
use std::sync::Arc;

/// An input to stage and mount.
#[derive(Debug, Clone)]
pub struct PlannedInput {
    /// The guest path it is mounted at.
    pub target: String,
    /// Where its data comes from.
    pub source: Arc<dyn InputSource>,
}

/// A result path: a writable directory the guest fills, published under `name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedOutput {
    /// The name of the directory in the results.
    pub name: String,
    /// The guest path it is mounted at.
    pub path: String,
}

/// Everything one execution needs, decided before anything is fetched or run.
#[derive(Debug, Clone)]
pub struct Execution {
    /// The job's name.
    pub job_name: String,
    /// The job id.
    pub job_id: String,
    /// This execution's id.
    pub execution_id: String,
    /// Which partition this is.
    pub partition_index: u32,
    /// How many partitions the job has.
    pub partition_count: u32,
    /// Inputs, mounted read-only unless their source says otherwise.
    pub inputs: Vec<PlannedInput>,
    /// Result paths.
    pub outputs: Vec<PlannedOutput>,
    /// The guest path of the entry module.
    pub entry_module: String,
    /// Guest paths of import modules, instantiated first, in order.
    pub import_modules: Vec<String>,
    /// The function to call.
    pub entrypoint: String,
    /// argv (`argv[0]` included).
    pub argv: Vec<String>,
    /// The environment, sorted by name.
    pub env: Vec<(String, String)>,
    /// Fuel, time and memory limits.
    pub limits: Limits,
    /// How long staging (with a TotalTimeout: staging and the run) may take.
    pub time_budget: TimeBudget,
    /// How many bytes the guest's writes may add to its outputs and writable
    /// inputs (`Resources.Disk`; `None`: no cap).
    pub disk_limit: Option<u64>,
    /// Deterministic settings of this partition (`None`: an ordinary run).
    pub deterministic: Option<Settings>,
    /// Where the results go when the execution completed (besides the results directory).
    pub publisher: Option<Arc<dyn Publisher>>,
    /// What the guest's HTTP requests may reach (`None`: no network, and no
    /// `wasi:http/requests` module).
    pub network: Option<Policy>,
    /// Where it runs, when it is one partition of a cluster job (`--partition`).
    pub placement: Placement,
}

/// How the runner writes results.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Cap on each of stdout and stderr, in bytes.
    pub max_output: u64,
    /// Report a normal return from the entrypoint as exit code -1 (Bacalhau's convention).
    pub bacalhau_exit_codes: bool,
    /// Hash modules and inputs before running (for a receipt).
    pub evidence: bool,
    /// Record the host's answers, or replay recorded ones.
    pub journal: Journaling,
    /// Also pass the guest's stdout and stderr, as they are written, to the
    /// writers this sink makes (`brine run --follow`: [`LiveSink::terminal`]).
    pub follow: Option<LiveSink>,
    /// Stops the guests when cancelled (their partitions fail as cancelled).
    pub cancel: Option<CancelToken>,
    /// Where the run reports its progress (`brine run`'s status line), if anywhere.
    pub progress: Option<Arc<Progress>>,
    /// Modules the checks compiled, reused when the run reads the same bytes.
    pub compiled: Option<Arc<CompiledModules>>,
}

pub use crate::host::stack::Journaling;

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            max_output: 1 << 30,
            bacalhau_exit_codes: false,
            evidence: false,
            journal: Journaling::Off,
            follow: None,
            cancel: None,
            progress: None,
            compiled: None,
        }
    }
}
