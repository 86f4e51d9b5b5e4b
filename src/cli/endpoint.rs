//! Arguments shared by every subcommand that talks to Kinesis/DynamoDB: where the endpoint is.

use std::path::PathBuf;

use clap::Args;

/// Where to talk to: `--endpoint-url` > `AWS_ENDPOINT_URL_KINESIS`/`_DYNAMODB`/`AWS_ENDPOINT_URL`
/// > the state written by `kinlocal up` > error. Real AWS only with `--aws`.
#[derive(Debug, Clone, Args, Default)]
pub struct EndpointArgs {
    /// Kinesis + DynamoDB endpoint URL (e.g. http://127.0.0.1:4566). Overrides the environment
    /// and the state of `kinlocal up`.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Talk to real AWS (standard credential chain). Never done without this flag.
    #[arg(long, conflicts_with = "endpoint_url")]
    pub aws: bool,
    /// AWS profile to use (with --aws, or for a profile that sets endpoint_url).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS region (default: the state of `kinlocal up`, AWS_REGION, or us-east-1).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Directory holding the state written by `kinlocal up` (default: $XDG_STATE_HOME/kinlocal).
    #[arg(long, value_name = "DIR", env = "KINLOCAL_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
}

impl EndpointArgs {
    /// The choice as plain values, for [`crate::endpoint`].
    pub fn selection(&self) -> crate::endpoint::Selection {
        crate::endpoint::Selection {
            endpoint_url: self.endpoint_url.clone(),
            aws: self.aws,
            profile: self.profile.clone(),
            region: self.region.clone(),
            state_dir: self.state_dir.clone(),
        }
    }
}
