# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kinlocal_global_optspecs
    string join \n h/help V/version
end

function __fish_kinlocal_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kinlocal_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kinlocal_using_subcommand
    set -l cmd (__fish_kinlocal_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kinlocal -n "__fish_kinlocal_needs_command" -s h -l help -d 'Print help'
complete -c kinlocal -n "__fish_kinlocal_needs_command" -s V -l version -d 'Print version'
complete -c kinlocal -n "__fish_kinlocal_needs_command" -f -a "up" -d 'Start a local Kinesis + DynamoDB endpoint (Docker containers or the embedded engine in the background), create the default stream and lease table, and record where it is'
complete -c kinlocal -n "__fish_kinlocal_needs_command" -f -a "down" -d 'Stop and remove what `kinlocal up` started'
complete -c kinlocal -n "__fish_kinlocal_needs_command" -f -a "status" -d 'Health, streams and shards, and each consumer\'s checkpoint and lag; exit 0 when healthy'
complete -c kinlocal -n "__fish_kinlocal_needs_command" -f -a "create-stream" -d 'Create a stream (default \'kinlocal\') and wait until it is ACTIVE; an existing stream of the same shape is fine'
complete -c kinlocal -n "__fish_kinlocal_needs_command" -f -a "delete-stream" -d 'Delete a stream and wait until it is gone'
complete -c kinlocal -n "__fish_kinlocal_needs_command" -f -a "list-streams" -d 'List streams with their status, mode, shards and retention'
complete -c kinlocal -n "__fish_kinlocal_needs_command" -f -a "produce" -d 'Send records to a stream: random events, a template, or a replayed file'
complete -c kinlocal -n "__fish_kinlocal_needs_command" -f -a "consume" -d 'Run an executable as a Lambda function mapped to a Kinesis stream (event source mapping)'
complete -c kinlocal -n "__fish_kinlocal_needs_command" -f -a "invoke" -d 'Run the function once with a Kinesis event and print its return value (like `sam local invoke`, without Docker)'
complete -c kinlocal -n "__fish_kinlocal_needs_command" -f -a "tail" -d 'Print a stream\'s records (all shards, from --starting-position); -f keeps following'
complete -c kinlocal -n "__fish_kinlocal_needs_command" -f -a "event" -d 'Print a Kinesis event exactly as `consume` delivers it, for a handler\'s unit tests'
complete -c kinlocal -n "__fish_kinlocal_needs_command" -f -a "serve" -d 'Run the embedded Kinesis + DynamoDB engine in the foreground until SIGINT/SIGTERM'
complete -c kinlocal -n "__fish_kinlocal_needs_command" -f -a "completions" -d 'Print shell completions for kinlocal'
complete -c kinlocal -n "__fish_kinlocal_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand up" -l backend -d 'Which backend: `docker` (containers through the docker CLI), `embedded` (`kinlocal serve` in the background), or `auto` (docker when a Docker daemon answers, else embedded)' -r -f -a "auto\t'Docker when a daemon answers, else embedded'
docker\t'Two containers through the docker CLI'
embedded\t'`kinlocal serve` as a detached background process'"
complete -c kinlocal -n "__fish_kinlocal_using_subcommand up" -s p -l port -d 'Port on 127.0.0.1 for Kinesis (embedded: Kinesis and DynamoDB); 0 takes a free port' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand up" -l dynamodb-port -d 'Docker backend: port on 127.0.0.1 for DynamoDB [default: --port + 1, or free when --port is 0]' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand up" -l stream -d 'A stream to create, NAME or NAME:SHARDS (repeatable) [default: kinlocal:3]' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand up" -l persist -d 'Keep streams, records and tables in DIR across `down`/`up` (in memory otherwise)' -r -F
complete -c kinlocal -n "__fish_kinlocal_using_subcommand up" -l state-dir -d 'Where the state file and the engine log go [default: $XDG_STATE_HOME/kinlocal]' -r -F
complete -c kinlocal -n "__fish_kinlocal_using_subcommand up" -l region -d 'Region written into ARNs' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand up" -l kinesis-image -d 'Docker backend: the Kinesis emulator image (serving plain HTTP on --kinesis-container-port)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand up" -l dynamodb-image -d 'Docker backend: the DynamoDB image (serving on --dynamodb-container-port)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand up" -l kinesis-container-port -d 'Docker backend: the plain-HTTP port inside the Kinesis container (kinesis-mock: 4568)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand up" -l dynamodb-container-port -d 'Docker backend: the port inside the DynamoDB container (dynamodb-local: 8000)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand up" -l name-prefix -d 'Docker backend: container names are PREFIX-kinesis and PREFIX-dynamodb (one prefix per parallel CI job)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand up" -l timeout -d 'How long to wait for the backend to answer ListStreams and ListTables' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand up" -l write-profile -d 'Write AWS profile NAME (endpoint_url, region, dummy credentials) into the shared AWS config and credentials files; other profiles are left untouched' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand up" -l print-env -d 'Print `export AWS_ENDPOINT_URL=… AWS_REGION=… AWS_DEFAULT_REGION=… AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=…` on stdout (progress goes to stderr), for `eval "$(kinlocal up --print-env)"`'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand up" -l json -d 'Print one JSON object on stdout (endpoints, region, backend, streams, and the `env` that --print-env would export); progress goes to stderr'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand up" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand up" -s V -l version -d 'Print version'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand down" -l state-dir -d 'The state directory `up` used [default: $XDG_STATE_HOME/kinlocal]' -r -F
complete -c kinlocal -n "__fish_kinlocal_using_subcommand down" -l purge -d 'Also delete the data kept with `up --persist`'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand down" -l json -d 'Print one JSON object on stdout: `{"was_up": bool, "actions": [...]}`'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand down" -s h -l help -d 'Print help'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand down" -s V -l version -d 'Print version'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand status" -l endpoint-url -d 'Kinesis + DynamoDB endpoint URL (e.g. http://127.0.0.1:4566). Overrides the environment and the state of `kinlocal up`' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand status" -l profile -d 'AWS profile to use (with --aws, or for a profile that sets endpoint_url)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand status" -l region -d 'AWS region (default: the state of `kinlocal up`, AWS_REGION, or us-east-1)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand status" -l state-dir -d 'Directory holding the state written by `kinlocal up` (default: $XDG_STATE_HOME/kinlocal)' -r -F
complete -c kinlocal -n "__fish_kinlocal_using_subcommand status" -l aws -d 'Talk to real AWS (standard credential chain). Never done without this flag'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand status" -l json -d 'Print one JSON object instead of text'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand status" -s h -l help -d 'Print help'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand status" -s V -l version -d 'Print version'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand create-stream" -l shards -d 'Number of shards (provisioned mode) [default: 1 for a new stream]. Given, an existing stream must have it; not given, an existing stream is accepted whatever its shard count' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand create-stream" -l retention-hours -d 'Retention period in hours, 24 to 8760 (new streams: 24). Given, an existing stream must have it too' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand create-stream" -l endpoint-url -d 'Kinesis + DynamoDB endpoint URL (e.g. http://127.0.0.1:4566). Overrides the environment and the state of `kinlocal up`' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand create-stream" -l profile -d 'AWS profile to use (with --aws, or for a profile that sets endpoint_url)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand create-stream" -l region -d 'AWS region (default: the state of `kinlocal up`, AWS_REGION, or us-east-1)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand create-stream" -l state-dir -d 'Directory holding the state written by `kinlocal up` (default: $XDG_STATE_HOME/kinlocal)' -r -F
complete -c kinlocal -n "__fish_kinlocal_using_subcommand create-stream" -l on-demand -d 'On-demand capacity mode instead of a fixed shard count'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand create-stream" -l no-wait -d 'Return as soon as the stream is requested instead of waiting until it is ACTIVE'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand create-stream" -l json -d 'Print one JSON object on stdout: `{"created": bool, "stream": {...}}`'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand create-stream" -l aws -d 'Talk to real AWS (standard credential chain). Never done without this flag'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand create-stream" -s h -l help -d 'Print help'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand create-stream" -s V -l version -d 'Print version'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand delete-stream" -l endpoint-url -d 'Kinesis + DynamoDB endpoint URL (e.g. http://127.0.0.1:4566). Overrides the environment and the state of `kinlocal up`' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand delete-stream" -l profile -d 'AWS profile to use (with --aws, or for a profile that sets endpoint_url)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand delete-stream" -l region -d 'AWS region (default: the state of `kinlocal up`, AWS_REGION, or us-east-1)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand delete-stream" -l state-dir -d 'Directory holding the state written by `kinlocal up` (default: $XDG_STATE_HOME/kinlocal)' -r -F
complete -c kinlocal -n "__fish_kinlocal_using_subcommand delete-stream" -l if-exists -d 'Succeed when the stream does not exist'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand delete-stream" -l no-wait -d 'Return as soon as the deletion is requested instead of waiting until the stream is gone'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand delete-stream" -l json -d 'Print one JSON object on stdout: `{"name": ..., "deleted": bool}`'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand delete-stream" -l aws -d 'Talk to real AWS (standard credential chain). Never done without this flag'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand delete-stream" -s h -l help -d 'Print help'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand delete-stream" -s V -l version -d 'Print version'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand list-streams" -l endpoint-url -d 'Kinesis + DynamoDB endpoint URL (e.g. http://127.0.0.1:4566). Overrides the environment and the state of `kinlocal up`' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand list-streams" -l profile -d 'AWS profile to use (with --aws, or for a profile that sets endpoint_url)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand list-streams" -l region -d 'AWS region (default: the state of `kinlocal up`, AWS_REGION, or us-east-1)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand list-streams" -l state-dir -d 'Directory holding the state written by `kinlocal up` (default: $XDG_STATE_HOME/kinlocal)' -r -F
complete -c kinlocal -n "__fish_kinlocal_using_subcommand list-streams" -l json -d 'Print a JSON array on stdout instead of a table'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand list-streams" -l aws -d 'Talk to real AWS (standard credential chain). Never done without this flag'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand list-streams" -s h -l help -d 'Print help'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand list-streams" -s V -l version -d 'Print version'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand produce" -s s -l stream -d 'Stream to send to' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand produce" -l shards -d 'Create the stream with N shards when it does not exist (an existing stream must have N)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand produce" -s n -l count -d 'Stop after N records (default: run until Ctrl+C, or until the end of --from)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand produce" -s d -l duration -d 'Stop after this long (e.g. 30s, 5m)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand produce" -s r -l rate -d 'Records per second to hold (default: as fast as the endpoint takes them)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand produce" -l batch-size -d 'Records per PutRecords request (1 to 500)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand produce" -l max-in-flight -d 'PutRecords requests in flight at once (random partition keys only; per-key ordering with a fixed or field: key needs one at a time)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand produce" -s t -l template -d 'Generate records from a JSON template with {{placeholders}} (see the README)' -r -F
complete -c kinlocal -n "__fish_kinlocal_using_subcommand produce" -s f -l from -d 'Replay newline-delimited JSON from FILE, or from stdin with \'-\'; bytes are sent unchanged' -r -F
complete -c kinlocal -n "__fish_kinlocal_using_subcommand produce" -l record-size -d 'Size in bytes of each generated record (random events only)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand produce" -s k -l partition-key -d 'Partition key: \'random\', a fixed string, or \'field:PATH\' (e.g. field:user.id) to take it from each record' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand produce" -l seed -d 'Seed for a reproducible sequence of records and partition keys' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand produce" -l endpoint-url -d 'Kinesis + DynamoDB endpoint URL (e.g. http://127.0.0.1:4566). Overrides the environment and the state of `kinlocal up`' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand produce" -l profile -d 'AWS profile to use (with --aws, or for a profile that sets endpoint_url)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand produce" -l region -d 'AWS region (default: the state of `kinlocal up`, AWS_REGION, or us-east-1)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand produce" -l state-dir -d 'Directory holding the state written by `kinlocal up` (default: $XDG_STATE_HOME/kinlocal)' -r -F
complete -c kinlocal -n "__fish_kinlocal_using_subcommand produce" -l json -d 'Print the summary as one JSON object on stdout'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand produce" -l aws -d 'Talk to real AWS (standard credential chain). Never done without this flag'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand produce" -s h -l help -d 'Print help'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand produce" -s V -l version -d 'Print version'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -s s -l stream -d 'The stream to consume (name or ARN); optional when the endpoint has exactly one' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -s e -l exec -d 'The handler command line, split with shell quoting rules but never run through a shell (e.g. --exec \'python3 handler.py\'); with --runtime-api, a Lambda bootstrap' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l handler -d 'The handler by name, as in the Lambda console: `[dir/]file.function` (e.g. src/app.handler); run with a bundled runtime client for --runtime' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l runtime -d 'The Lambda runtime for --handler: python3.9 … python3.14, nodejs18.x … nodejs24.x' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l task-root -d 'LAMBDA_TASK_ROOT for --handler, the directory the handler path is relative to (default: the handler\'s own directory)' -r -F
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l layer -d 'A Lambda layer directory, laid out like /opt (python/, nodejs/node_modules, bin, lib); repeatable, in order' -r -F
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l python -d 'The Python interpreter for a python --runtime (default: python3.X if on PATH, else python3)' -r -F
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l node -d 'The Node.js binary for a nodejs --runtime (default: node)' -r -F
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l env -d 'An environment variable for the function (KEY=VALUE); repeatable; wins over --env-file and kinlocal\'s own Lambda variables' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l env-file -d 'A dotenv file of variables for the function (KEY=VALUE lines, # comments); repeatable' -r -F
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l watch -d 'With --runtime-api or --handler: hot reload. When a file under PATH changes (a directory is watched recursively; __pycache__, hidden files and editor backups are ignored), the warm processes are replaced before their next batch; a batch in flight finishes on the code it started with. Repeatable' -r -F
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l starting-position -d 'Where a shard with no checkpoint starts (StartingPosition)' -r -f -a "trim-horizon\t'The oldest record still in the stream (TRIM_HORIZON)'
latest\t'Only records put after the consumer started (LATEST)'
at-timestamp\t'Records that arrived at or after --starting-position-timestamp (AT_TIMESTAMP)'"
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l starting-position-timestamp -d 'With --starting-position at-timestamp: Unix seconds or an RFC 3339 time' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -s b -l batch-size -d 'Most records per invocation (BatchSize, 1-10000)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l maximum-batching-window -d 'How long to gather records before invoking (MaximumBatchingWindowInSeconds, 0-300s)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l poll-interval -d 'How often each shard is read when it has no backlog [default: 10ms against a local endpoint, whose empty reads kinlocal\'s engine also holds open until a record arrives (15ms against one that answers at once); 200ms with --aws, AWS\'s 5 GetRecords/s per shard, which is never exceeded]' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l efo -d 'Read each shard through an enhanced fan-out consumer (SubscribeToShard, records pushed as they arrive) instead of polling GetRecords: CONSUMER_NAME (default: the --app name) is registered on the stream, or reused if it exists' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l tumbling-window -d 'Group records into tumbling windows of this length by arrival time (TumblingWindowInSeconds, 1s-900s; 0 is off): each invocation carries the window and the state the previous one returned, and a final invocation closes each window' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l parallelization-factor -d 'Batches of one shard in flight at once (ParallelizationFactor, 1-10): records go to lanes by partition key, so one key is always handled in order and never concurrently' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l maximum-retry-attempts -d 'Retries of a failing batch (MaximumRetryAttempts): -1 is infinite, or 0-10000' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l maximum-record-age -d 'Discard records older than this (MaximumRecordAgeInSeconds): -1 is infinite, or 60s-7d' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l on-failure -d 'Where discarded batches go: a directory (one JSON file each, with the records, like an S3 destination) or stream:NAME (the record on another stream, like SQS/SNS)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -s t -l timeout -d 'Function timeout; the handler\'s process group is killed after it (1s-900s like Lambda; shorter values are accepted locally)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l memory-size -d 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE for the handler (MB, 128-10240)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l function-name -d 'Function name in ARNs and AWS_LAMBDA_FUNCTION_NAME (default: the handler\'s file name)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l role-arn -d 'Execution role ARN written as invokeIdentityArn (default: arn:aws:iam::ACCOUNT:role/lambda-role)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l account-id -d 'Account id in ARNs (default: the stream ARN\'s account)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l app -d 'Lease table (KCL application) name holding the checkpoints (default: kinlocal-STREAM-FUNCTION)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l worker-id -d 'This consumer\'s name in the lease table (leaseOwner); unique among the consumers of one --app (default: HOST:PID)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l failover-time -d 'Consumers sharing an --app take over a lease not renewed for this long (KCL\'s failoverTimeMillis); held leases are renewed every third of it' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l until-idle -d 'Exit once every shard this consumer holds is drained, nothing new arrived for DURATION, and no other shard is waiting for a consumer (none unowned or expired). A shard waiting to retry a failing batch makes no progress: if it waits for DURATION while nothing else moves, the run ends with exit 4 (stopped with undelivered records)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l max-records -d 'Stop after N records were delivered' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l filter -d 'Deliver only records matching this FilterCriteria pattern (EventBridge syntax on the record\'s JSON `data` and its metadata, e.g. \'{"data": {"type": ["buy"]}}\'); repeatable, patterns are ORed. Records matching none are skipped and checkpointed past' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l filter-file -d 'Read filter patterns from a file in the Lambda API\'s shape: {"Filters": [{"Pattern": "{...}"}]}' -r -F
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l max-filters -d 'Most filters allowed (AWS\'s quota: 5 by default, raisable to 10 on request)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l template -d 'Read the function and its Kinesis event source mapping from a deployment file: an AWS SAM or CloudFormation template (YAML or JSON), a serverless.yml, or Terraform (.tf file or directory). Flags given on the command line override the file' -r -F
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l function -d 'With --template: the function (logical id / config key, or its FunctionName)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l endpoint-url -d 'Kinesis + DynamoDB endpoint URL (e.g. http://127.0.0.1:4566). Overrides the environment and the state of `kinlocal up`' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l profile -d 'AWS profile to use (with --aws, or for a profile that sets endpoint_url)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l region -d 'AWS region (default: the state of `kinlocal up`, AWS_REGION, or us-east-1)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l state-dir -d 'Directory holding the state written by `kinlocal up` (default: $XDG_STATE_HOME/kinlocal)' -r -F
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l runtime-api -d 'Run --exec as a Lambda bootstrap speaking the Runtime API (a lambda_runtime binary, `python3 -m awslambdaric app.handler`, aws-lambda-ric…), kept warm between invocations'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l runtime-api-only -d 'Serve the Runtime API without starting any process: print AWS_LAMBDA_RUNTIME_API and the environment to start your function with (under a debugger or an IDE), and wait. No timeout kill in this mode'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l ric -d 'With --handler: run the official runtime interface client (awslambdaric for Python, node_modules/aws-lambda-ric for Node) instead of kinlocal\'s bundled one'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l maximum-record-age-unchecked -d 'Test only: lift the 60 s minimum of --maximum-record-age (AWS rejects such values)'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l bisect-batch-on-function-error -d 'Split a failing batch in two and retry each half (BisectBatchOnFunctionError)'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l report-batch-item-failures -d 'Read the return value as a partial batch response (FunctionResponseTypes: ReportBatchItemFailures)'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l reset -d 'Forget the checkpoints and start again from --starting-position'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l dry-run -d 'With --template: print the resolved mapping, with where each value came from, and exit'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l json -d 'One JSON object per batch (and a summary) on stdout'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -l aws -d 'Talk to real AWS (standard credential chain). Never done without this flag'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand consume" -s V -l version -d 'Print version'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand invoke" -s e -l exec -d 'The handler command line (split with shell quoting rules, never run through a shell): a process reading the event on stdin, or a bootstrap with --runtime-api' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand invoke" -l handler -d 'The handler by name, as in the Lambda console: `[dir/]file.function` (e.g. src/app.handler); run with a bundled runtime client for --runtime' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand invoke" -l runtime -d 'The Lambda runtime for --handler: python3.9 … python3.14, nodejs18.x … nodejs24.x' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand invoke" -l task-root -d 'LAMBDA_TASK_ROOT for --handler, the directory the handler path is relative to (default: the handler\'s own directory)' -r -F
complete -c kinlocal -n "__fish_kinlocal_using_subcommand invoke" -l layer -d 'A Lambda layer directory, laid out like /opt (python/, nodejs/node_modules, bin, lib); repeatable, in order' -r -F
complete -c kinlocal -n "__fish_kinlocal_using_subcommand invoke" -l python -d 'The Python interpreter for a python --runtime (default: python3.X if on PATH, else python3)' -r -F
complete -c kinlocal -n "__fish_kinlocal_using_subcommand invoke" -l node -d 'The Node.js binary for a nodejs --runtime (default: node)' -r -F
complete -c kinlocal -n "__fish_kinlocal_using_subcommand invoke" -l env -d 'An environment variable for the function (KEY=VALUE); repeatable; wins over --env-file and kinlocal\'s own Lambda variables' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand invoke" -l env-file -d 'A dotenv file of variables for the function (KEY=VALUE lines, # comments); repeatable' -r -F
complete -c kinlocal -n "__fish_kinlocal_using_subcommand invoke" -l event -d 'A complete event document (JSON file, or - for stdin), sent as is' -r -F
complete -c kinlocal -n "__fish_kinlocal_using_subcommand invoke" -l record -d 'One record\'s data (e.g. a JSON document); repeatable; the event is built as consume builds it' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand invoke" -l records-from -d 'A file with one record\'s data per line (NDJSON); the event is built as consume builds it' -r -F
complete -c kinlocal -n "__fish_kinlocal_using_subcommand invoke" -l partition-key -d 'Partition key of the built records' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand invoke" -l stream -d 'Stream name in the built records\' eventSourceARN' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand invoke" -s t -l timeout -d 'Function timeout; the process group is killed after it' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand invoke" -l memory-size -d 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE (MB, 128-10240)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand invoke" -l function-name -d 'Function name in its ARN and AWS_LAMBDA_FUNCTION_NAME (default: the handler\'s file name)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand invoke" -l region -d 'Region in ARNs and AWS_REGION' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand invoke" -l account-id -d 'Account id in ARNs' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand invoke" -l runtime-api -d 'Run --exec as a Lambda bootstrap speaking the Runtime API (a lambda_runtime binary, `python3 -m awslambdaric app.handler`, aws-lambda-ric…), kept warm between invocations'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand invoke" -l runtime-api-only -d 'Serve the Runtime API without starting any process: print AWS_LAMBDA_RUNTIME_API and the environment to start your function with (under a debugger or an IDE), and wait. No timeout kill in this mode'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand invoke" -l ric -d 'With --handler: run the official runtime interface client (awslambdaric for Python, node_modules/aws-lambda-ric for Node) instead of kinlocal\'s bundled one'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand invoke" -s h -l help -d 'Print help'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand invoke" -s V -l version -d 'Print version'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand tail" -l starting-position -d 'Where to start in each shard (the same words as `consume`)' -r -f -a "trim-horizon\t'The oldest record still in the stream (TRIM_HORIZON)'
latest\t'Only records put from now on (LATEST)'
at-timestamp\t'Records that arrived at or after --starting-position-timestamp (AT_TIMESTAMP)'"
complete -c kinlocal -n "__fish_kinlocal_using_subcommand tail" -l starting-position-timestamp -d 'With --starting-position at-timestamp: Unix seconds or an RFC 3339 time' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand tail" -l after-sequence-number -d 'Start right after this sequence number (needs --shard)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand tail" -l shard -d 'Read only this shard (`shardId-000000000001`, or just `1`)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand tail" -s k -l partition-key -d 'Print only records with this partition key' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand tail" -l filter -d 'Print only records matching this pattern, in the syntax of Lambda\'s FilterCriteria (e.g. \'{"data":{"type":["order"]}}\'); repeatable: a record matching any is printed' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand tail" -s n -l count -d 'Stop after N records' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand tail" -l endpoint-url -d 'Kinesis + DynamoDB endpoint URL (e.g. http://127.0.0.1:4566). Overrides the environment and the state of `kinlocal up`' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand tail" -l profile -d 'AWS profile to use (with --aws, or for a profile that sets endpoint_url)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand tail" -l region -d 'AWS region (default: the state of `kinlocal up`, AWS_REGION, or us-east-1)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand tail" -l state-dir -d 'Directory holding the state written by `kinlocal up` (default: $XDG_STATE_HOME/kinlocal)' -r -F
complete -c kinlocal -n "__fish_kinlocal_using_subcommand tail" -s f -l follow -d 'Keep reading new records until Ctrl+C instead of stopping when caught up'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand tail" -l base64 -d 'Print each record\'s data base64-encoded (for binary data)'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand tail" -l json -d 'One JSON line per record, with AWS\'s member names and the data in base64 (what `produce --from` and `event --records-from` replay)'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand tail" -l aws -d 'Talk to real AWS (standard credential chain). Never done without this flag'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand tail" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand tail" -s V -l version -d 'Print version'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand event" -l record -d 'A record\'s data (any text, usually JSON); repeatable, in order' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand event" -l records-from -d 'Records from newline-delimited JSON, as `produce --from` replays it: one record\'s data per line, or the record lines `tail --json` prints (their partition keys are kept); \'-\' reads stdin' -r -F
complete -c kinlocal -n "__fish_kinlocal_using_subcommand event" -l random -d 'N random JSON records (the ones `produce` generates)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand event" -l seed -d 'Seed for reproducible --random records' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand event" -l stream -d 'Stream name in `eventSourceARN`' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand event" -l shard-id -d 'Shard id in `eventID` (and `shardId` with --tumbling-window)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand event" -s k -l partition-key -d 'One partition key for every record [default: pk-0, pk-1, …]' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand event" -l region -d '`awsRegion` and the region in the ARNs' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand event" -l account-id -d 'Account id in the ARNs' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand event" -l role-arn -d '`invokeIdentityArn` [default: arn:aws:iam::ACCOUNT:role/lambda-role, as consume]' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand event" -l tumbling-window -d 'Wrap the records in the envelope of a tumbling window of this length (the first invocation of the window: empty state)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand event" -l pretty -d 'Pretty-print the event (the bytes consume sends are compact)'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand event" -s h -l help -d 'Print help'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand event" -s V -l version -d 'Print version'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -l host -d 'Address to bind. Loopback unless you ask otherwise: any other address also needs --allow-remote, because the engine checks no signatures' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -s p -l port -d 'Port to listen on; 0 takes a free port (printed at start)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -l region -d 'Region written into ARNs' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -l account-id -d 'Account id written into ARNs (12 digits)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -l data-dir -d 'Keep streams, records and tables in DIR so they survive restarts (and kill -9)' -r -F
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -l fsync -d 'When journal writes reach the disk: `never` (the kernel decides, ~30 s on Linux; a killed engine loses nothing, a power cut the last half-minute), `batch` (within 1 s; a power cut loses at most about the last second) or `always` (before each answer; nothing acknowledged is lost, one disk flush per write)' -r -f -a "never\t''
batch\t''
always\t''"
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -l create-stream-delay -d 'How long a new stream stays CREATING (e.g. 500ms)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -l delete-stream-delay -d 'How long a deleted stream stays DELETING' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -l update-stream-delay -d 'How long a stream stays UPDATING after a reshard or retention change' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -l create-table-delay -d 'How long a new DynamoDB table stays CREATING' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -l max-retention -d 'Trim records older than this whatever a stream\'s retention period says (AWS\'s minimum is 24 hours): keeps the memory and the journal of a long-running engine bounded by recent traffic. Consumers further behind than this lose the records trimmed' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -l iterator-ttl -d 'How long a shard iterator stays valid (AWS: 5 minutes)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -l request-timeout -d 'A request\'s headers, and then its body, must each arrive within this; a client that never finishes gets 408 and its connection is closed' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -l idle-timeout -d 'A connection that moves no byte either way for this long is closed' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -l subscription-lifetime -d 'Test only: how long a SubscribeToShard subscription lasts before the client must renew it (AWS: 5 minutes)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -l allow-remote -d 'Allow a --host that is not loopback: anyone who can reach the port can read and write every stream and table, since the engine checks no signatures'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -l repair -d 'Salvage damaged journals in --data-dir: keep every entry that still verifies, report what is lost, keep the damaged file beside the repaired one, then serve'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -l enforce-limits -d 'Enforce per-shard throughput limits (writes 1 MiB/s and 1,000 records/s; reads 5 calls/s and 2 MiB/s) with ProvisionedThroughputExceededException, to test retry paths'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -l no-long-poll -d 'Test only: answer every GetRecords at once, ignoring kinlocal\'s long-poll hint, as the endpoints of `up --docker`, kinesalite or kinesis-mock do'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -l json -d 'Print the listening address as one JSON line'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -s h -l help -d 'Print help'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -s V -l version -d 'Print version'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand completions" -s h -l help -d 'Print help'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand completions" -s V -l version -d 'Print version'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand help; and not __fish_seen_subcommand_from up down status create-stream delete-stream list-streams produce consume invoke tail event serve completions help" -f -a "up" -d 'Start a local Kinesis + DynamoDB endpoint (Docker containers or the embedded engine in the background), create the default stream and lease table, and record where it is'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand help; and not __fish_seen_subcommand_from up down status create-stream delete-stream list-streams produce consume invoke tail event serve completions help" -f -a "down" -d 'Stop and remove what `kinlocal up` started'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand help; and not __fish_seen_subcommand_from up down status create-stream delete-stream list-streams produce consume invoke tail event serve completions help" -f -a "status" -d 'Health, streams and shards, and each consumer\'s checkpoint and lag; exit 0 when healthy'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand help; and not __fish_seen_subcommand_from up down status create-stream delete-stream list-streams produce consume invoke tail event serve completions help" -f -a "create-stream" -d 'Create a stream (default \'kinlocal\') and wait until it is ACTIVE; an existing stream of the same shape is fine'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand help; and not __fish_seen_subcommand_from up down status create-stream delete-stream list-streams produce consume invoke tail event serve completions help" -f -a "delete-stream" -d 'Delete a stream and wait until it is gone'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand help; and not __fish_seen_subcommand_from up down status create-stream delete-stream list-streams produce consume invoke tail event serve completions help" -f -a "list-streams" -d 'List streams with their status, mode, shards and retention'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand help; and not __fish_seen_subcommand_from up down status create-stream delete-stream list-streams produce consume invoke tail event serve completions help" -f -a "produce" -d 'Send records to a stream: random events, a template, or a replayed file'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand help; and not __fish_seen_subcommand_from up down status create-stream delete-stream list-streams produce consume invoke tail event serve completions help" -f -a "consume" -d 'Run an executable as a Lambda function mapped to a Kinesis stream (event source mapping)'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand help; and not __fish_seen_subcommand_from up down status create-stream delete-stream list-streams produce consume invoke tail event serve completions help" -f -a "invoke" -d 'Run the function once with a Kinesis event and print its return value (like `sam local invoke`, without Docker)'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand help; and not __fish_seen_subcommand_from up down status create-stream delete-stream list-streams produce consume invoke tail event serve completions help" -f -a "tail" -d 'Print a stream\'s records (all shards, from --starting-position); -f keeps following'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand help; and not __fish_seen_subcommand_from up down status create-stream delete-stream list-streams produce consume invoke tail event serve completions help" -f -a "event" -d 'Print a Kinesis event exactly as `consume` delivers it, for a handler\'s unit tests'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand help; and not __fish_seen_subcommand_from up down status create-stream delete-stream list-streams produce consume invoke tail event serve completions help" -f -a "serve" -d 'Run the embedded Kinesis + DynamoDB engine in the foreground until SIGINT/SIGTERM'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand help; and not __fish_seen_subcommand_from up down status create-stream delete-stream list-streams produce consume invoke tail event serve completions help" -f -a "completions" -d 'Print shell completions for kinlocal'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand help; and not __fish_seen_subcommand_from up down status create-stream delete-stream list-streams produce consume invoke tail event serve completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
