
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'kinlocal' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'kinlocal'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'kinlocal' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('up', 'up', [CompletionResultType]::ParameterValue, 'Start a local Kinesis + DynamoDB endpoint (Docker containers or the embedded engine in the background), create the default stream and lease table, and record where it is')
            [CompletionResult]::new('down', 'down', [CompletionResultType]::ParameterValue, 'Stop and remove what `kinlocal up` started')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Health, streams and shards, and each consumer''s checkpoint and lag; exit 0 when healthy')
            [CompletionResult]::new('create-stream', 'create-stream', [CompletionResultType]::ParameterValue, 'Create a stream (default ''kinlocal'') and wait until it is ACTIVE; an existing stream of the same shape is fine')
            [CompletionResult]::new('delete-stream', 'delete-stream', [CompletionResultType]::ParameterValue, 'Delete a stream and wait until it is gone')
            [CompletionResult]::new('list-streams', 'list-streams', [CompletionResultType]::ParameterValue, 'List streams with their status, mode, shards and retention')
            [CompletionResult]::new('produce', 'produce', [CompletionResultType]::ParameterValue, 'Send records to a stream: random events, a template, or a replayed file')
            [CompletionResult]::new('consume', 'consume', [CompletionResultType]::ParameterValue, 'Run an executable as a Lambda function mapped to a Kinesis stream (event source mapping)')
            [CompletionResult]::new('invoke', 'invoke', [CompletionResultType]::ParameterValue, 'Run the function once with a Kinesis event and print its return value (like `sam local invoke`, without Docker)')
            [CompletionResult]::new('tail', 'tail', [CompletionResultType]::ParameterValue, 'Print a stream''s records (all shards, from --starting-position); -f keeps following')
            [CompletionResult]::new('event', 'event', [CompletionResultType]::ParameterValue, 'Print a Kinesis event exactly as `consume` delivers it, for a handler''s unit tests')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run the embedded Kinesis + DynamoDB engine in the foreground until SIGINT/SIGTERM')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions for kinlocal')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kinlocal;up' {
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Which backend: `docker` (containers through the docker CLI), `embedded` (`kinlocal serve` in the background), or `auto` (docker when a Docker daemon answers, else embedded)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Port on 127.0.0.1 for Kinesis (embedded: Kinesis and DynamoDB); 0 takes a free port')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port on 127.0.0.1 for Kinesis (embedded: Kinesis and DynamoDB); 0 takes a free port')
            [CompletionResult]::new('--dynamodb-port', '--dynamodb-port', [CompletionResultType]::ParameterName, 'Docker backend: port on 127.0.0.1 for DynamoDB [default: --port + 1, or free when --port is 0]')
            [CompletionResult]::new('--stream', '--stream', [CompletionResultType]::ParameterName, 'A stream to create, NAME or NAME:SHARDS (repeatable) [default: kinlocal:3]')
            [CompletionResult]::new('--persist', '--persist', [CompletionResultType]::ParameterName, 'Keep streams, records and tables in DIR across `down`/`up` (in memory otherwise)')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Where the state file and the engine log go [default: $XDG_STATE_HOME/kinlocal]')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'Region written into ARNs')
            [CompletionResult]::new('--kinesis-image', '--kinesis-image', [CompletionResultType]::ParameterName, 'Docker backend: the Kinesis emulator image (serving plain HTTP on --kinesis-container-port)')
            [CompletionResult]::new('--dynamodb-image', '--dynamodb-image', [CompletionResultType]::ParameterName, 'Docker backend: the DynamoDB image (serving on --dynamodb-container-port)')
            [CompletionResult]::new('--kinesis-container-port', '--kinesis-container-port', [CompletionResultType]::ParameterName, 'Docker backend: the plain-HTTP port inside the Kinesis container (kinesis-mock: 4568)')
            [CompletionResult]::new('--dynamodb-container-port', '--dynamodb-container-port', [CompletionResultType]::ParameterName, 'Docker backend: the port inside the DynamoDB container (dynamodb-local: 8000)')
            [CompletionResult]::new('--name-prefix', '--name-prefix', [CompletionResultType]::ParameterName, 'Docker backend: container names are PREFIX-kinesis and PREFIX-dynamodb (one prefix per parallel CI job)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the backend to answer ListStreams and ListTables')
            [CompletionResult]::new('--write-profile', '--write-profile', [CompletionResultType]::ParameterName, 'Write AWS profile NAME (endpoint_url, region, dummy credentials) into the shared AWS config and credentials files; other profiles are left untouched')
            [CompletionResult]::new('--print-env', '--print-env', [CompletionResultType]::ParameterName, 'Print `export AWS_ENDPOINT_URL=… AWS_REGION=… AWS_DEFAULT_REGION=… AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=…` on stdout (progress goes to stderr), for `eval "$(kinlocal up --print-env)"`')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object on stdout (endpoints, region, backend, streams, and the `env` that --print-env would export); progress goes to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kinlocal;down' {
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'The state directory `up` used [default: $XDG_STATE_HOME/kinlocal]')
            [CompletionResult]::new('--purge', '--purge', [CompletionResultType]::ParameterName, 'Also delete the data kept with `up --persist`')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object on stdout: `{"was_up": bool, "actions": [...]}`')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kinlocal;status' {
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Kinesis + DynamoDB endpoint URL (e.g. http://127.0.0.1:4566). Overrides the environment and the state of `kinlocal up`')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile to use (with --aws, or for a profile that sets endpoint_url)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region (default: the state of `kinlocal up`, AWS_REGION, or us-east-1)')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Directory holding the state written by `kinlocal up` (default: $XDG_STATE_HOME/kinlocal)')
            [CompletionResult]::new('--aws', '--aws', [CompletionResultType]::ParameterName, 'Talk to real AWS (standard credential chain). Never done without this flag')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kinlocal;create-stream' {
            [CompletionResult]::new('--shards', '--shards', [CompletionResultType]::ParameterName, 'Number of shards (provisioned mode) [default: 1 for a new stream]. Given, an existing stream must have it; not given, an existing stream is accepted whatever its shard count')
            [CompletionResult]::new('--retention-hours', '--retention-hours', [CompletionResultType]::ParameterName, 'Retention period in hours, 24 to 8760 (new streams: 24). Given, an existing stream must have it too')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Kinesis + DynamoDB endpoint URL (e.g. http://127.0.0.1:4566). Overrides the environment and the state of `kinlocal up`')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile to use (with --aws, or for a profile that sets endpoint_url)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region (default: the state of `kinlocal up`, AWS_REGION, or us-east-1)')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Directory holding the state written by `kinlocal up` (default: $XDG_STATE_HOME/kinlocal)')
            [CompletionResult]::new('--on-demand', '--on-demand', [CompletionResultType]::ParameterName, 'On-demand capacity mode instead of a fixed shard count')
            [CompletionResult]::new('--no-wait', '--no-wait', [CompletionResultType]::ParameterName, 'Return as soon as the stream is requested instead of waiting until it is ACTIVE')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object on stdout: `{"created": bool, "stream": {...}}`')
            [CompletionResult]::new('--aws', '--aws', [CompletionResultType]::ParameterName, 'Talk to real AWS (standard credential chain). Never done without this flag')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kinlocal;delete-stream' {
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Kinesis + DynamoDB endpoint URL (e.g. http://127.0.0.1:4566). Overrides the environment and the state of `kinlocal up`')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile to use (with --aws, or for a profile that sets endpoint_url)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region (default: the state of `kinlocal up`, AWS_REGION, or us-east-1)')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Directory holding the state written by `kinlocal up` (default: $XDG_STATE_HOME/kinlocal)')
            [CompletionResult]::new('--if-exists', '--if-exists', [CompletionResultType]::ParameterName, 'Succeed when the stream does not exist')
            [CompletionResult]::new('--no-wait', '--no-wait', [CompletionResultType]::ParameterName, 'Return as soon as the deletion is requested instead of waiting until the stream is gone')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object on stdout: `{"name": ..., "deleted": bool}`')
            [CompletionResult]::new('--aws', '--aws', [CompletionResultType]::ParameterName, 'Talk to real AWS (standard credential chain). Never done without this flag')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kinlocal;list-streams' {
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Kinesis + DynamoDB endpoint URL (e.g. http://127.0.0.1:4566). Overrides the environment and the state of `kinlocal up`')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile to use (with --aws, or for a profile that sets endpoint_url)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region (default: the state of `kinlocal up`, AWS_REGION, or us-east-1)')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Directory holding the state written by `kinlocal up` (default: $XDG_STATE_HOME/kinlocal)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print a JSON array on stdout instead of a table')
            [CompletionResult]::new('--aws', '--aws', [CompletionResultType]::ParameterName, 'Talk to real AWS (standard credential chain). Never done without this flag')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kinlocal;produce' {
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Stream to send to')
            [CompletionResult]::new('--stream', '--stream', [CompletionResultType]::ParameterName, 'Stream to send to')
            [CompletionResult]::new('--shards', '--shards', [CompletionResultType]::ParameterName, 'Create the stream with N shards when it does not exist (an existing stream must have N)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Stop after N records (default: run until Ctrl+C, or until the end of --from)')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Stop after N records (default: run until Ctrl+C, or until the end of --from)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Stop after this long (e.g. 30s, 5m)')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'Stop after this long (e.g. 30s, 5m)')
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Records per second to hold (default: as fast as the endpoint takes them)')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'Records per second to hold (default: as fast as the endpoint takes them)')
            [CompletionResult]::new('--batch-size', '--batch-size', [CompletionResultType]::ParameterName, 'Records per PutRecords request (1 to 500)')
            [CompletionResult]::new('--max-in-flight', '--max-in-flight', [CompletionResultType]::ParameterName, 'PutRecords requests in flight at once (random partition keys only; per-key ordering with a fixed or field: key needs one at a time)')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Generate records from a JSON template with {{placeholders}} (see the README)')
            [CompletionResult]::new('--template', '--template', [CompletionResultType]::ParameterName, 'Generate records from a JSON template with {{placeholders}} (see the README)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Replay newline-delimited JSON from FILE, or from stdin with ''-''; bytes are sent unchanged')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'Replay newline-delimited JSON from FILE, or from stdin with ''-''; bytes are sent unchanged')
            [CompletionResult]::new('--record-size', '--record-size', [CompletionResultType]::ParameterName, 'Size in bytes of each generated record (random events only)')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Partition key: ''random'', a fixed string, or ''field:PATH'' (e.g. field:user.id) to take it from each record')
            [CompletionResult]::new('--partition-key', '--partition-key', [CompletionResultType]::ParameterName, 'Partition key: ''random'', a fixed string, or ''field:PATH'' (e.g. field:user.id) to take it from each record')
            [CompletionResult]::new('--seed', '--seed', [CompletionResultType]::ParameterName, 'Seed for a reproducible sequence of records and partition keys')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Kinesis + DynamoDB endpoint URL (e.g. http://127.0.0.1:4566). Overrides the environment and the state of `kinlocal up`')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile to use (with --aws, or for a profile that sets endpoint_url)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region (default: the state of `kinlocal up`, AWS_REGION, or us-east-1)')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Directory holding the state written by `kinlocal up` (default: $XDG_STATE_HOME/kinlocal)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the summary as one JSON object on stdout')
            [CompletionResult]::new('--aws', '--aws', [CompletionResultType]::ParameterName, 'Talk to real AWS (standard credential chain). Never done without this flag')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kinlocal;consume' {
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'The stream to consume (name or ARN); optional when the endpoint has exactly one')
            [CompletionResult]::new('--stream', '--stream', [CompletionResultType]::ParameterName, 'The stream to consume (name or ARN); optional when the endpoint has exactly one')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'The handler command line, split with shell quoting rules but never run through a shell (e.g. --exec ''python3 handler.py''); with --runtime-api, a Lambda bootstrap')
            [CompletionResult]::new('--exec', '--exec', [CompletionResultType]::ParameterName, 'The handler command line, split with shell quoting rules but never run through a shell (e.g. --exec ''python3 handler.py''); with --runtime-api, a Lambda bootstrap')
            [CompletionResult]::new('--handler', '--handler', [CompletionResultType]::ParameterName, 'The handler by name, as in the Lambda console: `[dir/]file.function` (e.g. src/app.handler); run with a bundled runtime client for --runtime')
            [CompletionResult]::new('--runtime', '--runtime', [CompletionResultType]::ParameterName, 'The Lambda runtime for --handler: python3.9 … python3.14, nodejs18.x … nodejs24.x')
            [CompletionResult]::new('--task-root', '--task-root', [CompletionResultType]::ParameterName, 'LAMBDA_TASK_ROOT for --handler, the directory the handler path is relative to (default: the handler''s own directory)')
            [CompletionResult]::new('--layer', '--layer', [CompletionResultType]::ParameterName, 'A Lambda layer directory, laid out like /opt (python/, nodejs/node_modules, bin, lib); repeatable, in order')
            [CompletionResult]::new('--python', '--python', [CompletionResultType]::ParameterName, 'The Python interpreter for a python --runtime (default: python3.X if on PATH, else python3)')
            [CompletionResult]::new('--node', '--node', [CompletionResultType]::ParameterName, 'The Node.js binary for a nodejs --runtime (default: node)')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'An environment variable for the function (KEY=VALUE); repeatable; wins over --env-file and kinlocal''s own Lambda variables')
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'A dotenv file of variables for the function (KEY=VALUE lines, # comments); repeatable')
            [CompletionResult]::new('--watch', '--watch', [CompletionResultType]::ParameterName, 'With --runtime-api or --handler: hot reload. When a file under PATH changes (a directory is watched recursively; __pycache__, hidden files and editor backups are ignored), the warm processes are replaced before their next batch; a batch in flight finishes on the code it started with. Repeatable')
            [CompletionResult]::new('--starting-position', '--starting-position', [CompletionResultType]::ParameterName, 'Where a shard with no checkpoint starts (StartingPosition)')
            [CompletionResult]::new('--starting-position-timestamp', '--starting-position-timestamp', [CompletionResultType]::ParameterName, 'With --starting-position at-timestamp: Unix seconds or an RFC 3339 time')
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'Most records per invocation (BatchSize, 1-10000)')
            [CompletionResult]::new('--batch-size', '--batch-size', [CompletionResultType]::ParameterName, 'Most records per invocation (BatchSize, 1-10000)')
            [CompletionResult]::new('--maximum-batching-window', '--maximum-batching-window', [CompletionResultType]::ParameterName, 'How long to gather records before invoking (MaximumBatchingWindowInSeconds, 0-300s)')
            [CompletionResult]::new('--poll-interval', '--poll-interval', [CompletionResultType]::ParameterName, 'How often each shard is read when it has no backlog [default: 10ms against a local endpoint, whose empty reads kinlocal''s engine also holds open until a record arrives (15ms against one that answers at once); 200ms with --aws, AWS''s 5 GetRecords/s per shard, which is never exceeded]')
            [CompletionResult]::new('--efo', '--efo', [CompletionResultType]::ParameterName, 'Read each shard through an enhanced fan-out consumer (SubscribeToShard, records pushed as they arrive) instead of polling GetRecords: CONSUMER_NAME (default: the --app name) is registered on the stream, or reused if it exists')
            [CompletionResult]::new('--tumbling-window', '--tumbling-window', [CompletionResultType]::ParameterName, 'Group records into tumbling windows of this length by arrival time (TumblingWindowInSeconds, 1s-900s; 0 is off): each invocation carries the window and the state the previous one returned, and a final invocation closes each window')
            [CompletionResult]::new('--parallelization-factor', '--parallelization-factor', [CompletionResultType]::ParameterName, 'Batches of one shard in flight at once (ParallelizationFactor, 1-10): records go to lanes by partition key, so one key is always handled in order and never concurrently')
            [CompletionResult]::new('--maximum-retry-attempts', '--maximum-retry-attempts', [CompletionResultType]::ParameterName, 'Retries of a failing batch (MaximumRetryAttempts): -1 is infinite, or 0-10000')
            [CompletionResult]::new('--maximum-record-age', '--maximum-record-age', [CompletionResultType]::ParameterName, 'Discard records older than this (MaximumRecordAgeInSeconds): -1 is infinite, or 60s-7d')
            [CompletionResult]::new('--on-failure', '--on-failure', [CompletionResultType]::ParameterName, 'Where discarded batches go: a directory (one JSON file each, with the records, like an S3 destination) or stream:NAME (the record on another stream, like SQS/SNS)')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Function timeout; the handler''s process group is killed after it (1s-900s like Lambda; shorter values are accepted locally)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Function timeout; the handler''s process group is killed after it (1s-900s like Lambda; shorter values are accepted locally)')
            [CompletionResult]::new('--memory-size', '--memory-size', [CompletionResultType]::ParameterName, 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE for the handler (MB, 128-10240)')
            [CompletionResult]::new('--function-name', '--function-name', [CompletionResultType]::ParameterName, 'Function name in ARNs and AWS_LAMBDA_FUNCTION_NAME (default: the handler''s file name)')
            [CompletionResult]::new('--role-arn', '--role-arn', [CompletionResultType]::ParameterName, 'Execution role ARN written as invokeIdentityArn (default: arn:aws:iam::ACCOUNT:role/lambda-role)')
            [CompletionResult]::new('--account-id', '--account-id', [CompletionResultType]::ParameterName, 'Account id in ARNs (default: the stream ARN''s account)')
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'Lease table (KCL application) name holding the checkpoints (default: kinlocal-STREAM-FUNCTION)')
            [CompletionResult]::new('--worker-id', '--worker-id', [CompletionResultType]::ParameterName, 'This consumer''s name in the lease table (leaseOwner); unique among the consumers of one --app (default: HOST:PID)')
            [CompletionResult]::new('--failover-time', '--failover-time', [CompletionResultType]::ParameterName, 'Consumers sharing an --app take over a lease not renewed for this long (KCL''s failoverTimeMillis); held leases are renewed every third of it')
            [CompletionResult]::new('--until-idle', '--until-idle', [CompletionResultType]::ParameterName, 'Exit once every shard this consumer holds is drained, nothing new arrived for DURATION, and no other shard is waiting for a consumer (none unowned or expired). A shard waiting to retry a failing batch makes no progress: if it waits for DURATION while nothing else moves, the run ends with exit 4 (stopped with undelivered records)')
            [CompletionResult]::new('--max-records', '--max-records', [CompletionResultType]::ParameterName, 'Stop after N records were delivered')
            [CompletionResult]::new('--filter', '--filter', [CompletionResultType]::ParameterName, 'Deliver only records matching this FilterCriteria pattern (EventBridge syntax on the record''s JSON `data` and its metadata, e.g. ''{"data": {"type": ["buy"]}}''); repeatable, patterns are ORed. Records matching none are skipped and checkpointed past')
            [CompletionResult]::new('--filter-file', '--filter-file', [CompletionResultType]::ParameterName, 'Read filter patterns from a file in the Lambda API''s shape: {"Filters": [{"Pattern": "{...}"}]}')
            [CompletionResult]::new('--max-filters', '--max-filters', [CompletionResultType]::ParameterName, 'Most filters allowed (AWS''s quota: 5 by default, raisable to 10 on request)')
            [CompletionResult]::new('--template', '--template', [CompletionResultType]::ParameterName, 'Read the function and its Kinesis event source mapping from a deployment file: an AWS SAM or CloudFormation template (YAML or JSON), a serverless.yml, or Terraform (.tf file or directory). Flags given on the command line override the file')
            [CompletionResult]::new('--function', '--function', [CompletionResultType]::ParameterName, 'With --template: the function (logical id / config key, or its FunctionName)')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Kinesis + DynamoDB endpoint URL (e.g. http://127.0.0.1:4566). Overrides the environment and the state of `kinlocal up`')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile to use (with --aws, or for a profile that sets endpoint_url)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region (default: the state of `kinlocal up`, AWS_REGION, or us-east-1)')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Directory holding the state written by `kinlocal up` (default: $XDG_STATE_HOME/kinlocal)')
            [CompletionResult]::new('--runtime-api', '--runtime-api', [CompletionResultType]::ParameterName, 'Run --exec as a Lambda bootstrap speaking the Runtime API (a lambda_runtime binary, `python3 -m awslambdaric app.handler`, aws-lambda-ric…), kept warm between invocations')
            [CompletionResult]::new('--runtime-api-only', '--runtime-api-only', [CompletionResultType]::ParameterName, 'Serve the Runtime API without starting any process: print AWS_LAMBDA_RUNTIME_API and the environment to start your function with (under a debugger or an IDE), and wait. No timeout kill in this mode')
            [CompletionResult]::new('--ric', '--ric', [CompletionResultType]::ParameterName, 'With --handler: run the official runtime interface client (awslambdaric for Python, node_modules/aws-lambda-ric for Node) instead of kinlocal''s bundled one')
            [CompletionResult]::new('--maximum-record-age-unchecked', '--maximum-record-age-unchecked', [CompletionResultType]::ParameterName, 'Test only: lift the 60 s minimum of --maximum-record-age (AWS rejects such values)')
            [CompletionResult]::new('--bisect-batch-on-function-error', '--bisect-batch-on-function-error', [CompletionResultType]::ParameterName, 'Split a failing batch in two and retry each half (BisectBatchOnFunctionError)')
            [CompletionResult]::new('--report-batch-item-failures', '--report-batch-item-failures', [CompletionResultType]::ParameterName, 'Read the return value as a partial batch response (FunctionResponseTypes: ReportBatchItemFailures)')
            [CompletionResult]::new('--reset', '--reset', [CompletionResultType]::ParameterName, 'Forget the checkpoints and start again from --starting-position')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'With --template: print the resolved mapping, with where each value came from, and exit')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'One JSON object per batch (and a summary) on stdout')
            [CompletionResult]::new('--aws', '--aws', [CompletionResultType]::ParameterName, 'Talk to real AWS (standard credential chain). Never done without this flag')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kinlocal;invoke' {
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'The handler command line (split with shell quoting rules, never run through a shell): a process reading the event on stdin, or a bootstrap with --runtime-api')
            [CompletionResult]::new('--exec', '--exec', [CompletionResultType]::ParameterName, 'The handler command line (split with shell quoting rules, never run through a shell): a process reading the event on stdin, or a bootstrap with --runtime-api')
            [CompletionResult]::new('--handler', '--handler', [CompletionResultType]::ParameterName, 'The handler by name, as in the Lambda console: `[dir/]file.function` (e.g. src/app.handler); run with a bundled runtime client for --runtime')
            [CompletionResult]::new('--runtime', '--runtime', [CompletionResultType]::ParameterName, 'The Lambda runtime for --handler: python3.9 … python3.14, nodejs18.x … nodejs24.x')
            [CompletionResult]::new('--task-root', '--task-root', [CompletionResultType]::ParameterName, 'LAMBDA_TASK_ROOT for --handler, the directory the handler path is relative to (default: the handler''s own directory)')
            [CompletionResult]::new('--layer', '--layer', [CompletionResultType]::ParameterName, 'A Lambda layer directory, laid out like /opt (python/, nodejs/node_modules, bin, lib); repeatable, in order')
            [CompletionResult]::new('--python', '--python', [CompletionResultType]::ParameterName, 'The Python interpreter for a python --runtime (default: python3.X if on PATH, else python3)')
            [CompletionResult]::new('--node', '--node', [CompletionResultType]::ParameterName, 'The Node.js binary for a nodejs --runtime (default: node)')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'An environment variable for the function (KEY=VALUE); repeatable; wins over --env-file and kinlocal''s own Lambda variables')
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'A dotenv file of variables for the function (KEY=VALUE lines, # comments); repeatable')
            [CompletionResult]::new('--event', '--event', [CompletionResultType]::ParameterName, 'A complete event document (JSON file, or - for stdin), sent as is')
            [CompletionResult]::new('--record', '--record', [CompletionResultType]::ParameterName, 'One record''s data (e.g. a JSON document); repeatable; the event is built as consume builds it')
            [CompletionResult]::new('--records-from', '--records-from', [CompletionResultType]::ParameterName, 'A file with one record''s data per line (NDJSON); the event is built as consume builds it')
            [CompletionResult]::new('--partition-key', '--partition-key', [CompletionResultType]::ParameterName, 'Partition key of the built records')
            [CompletionResult]::new('--stream', '--stream', [CompletionResultType]::ParameterName, 'Stream name in the built records'' eventSourceARN')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Function timeout; the process group is killed after it')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Function timeout; the process group is killed after it')
            [CompletionResult]::new('--memory-size', '--memory-size', [CompletionResultType]::ParameterName, 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE (MB, 128-10240)')
            [CompletionResult]::new('--function-name', '--function-name', [CompletionResultType]::ParameterName, 'Function name in its ARN and AWS_LAMBDA_FUNCTION_NAME (default: the handler''s file name)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'Region in ARNs and AWS_REGION')
            [CompletionResult]::new('--account-id', '--account-id', [CompletionResultType]::ParameterName, 'Account id in ARNs')
            [CompletionResult]::new('--runtime-api', '--runtime-api', [CompletionResultType]::ParameterName, 'Run --exec as a Lambda bootstrap speaking the Runtime API (a lambda_runtime binary, `python3 -m awslambdaric app.handler`, aws-lambda-ric…), kept warm between invocations')
            [CompletionResult]::new('--runtime-api-only', '--runtime-api-only', [CompletionResultType]::ParameterName, 'Serve the Runtime API without starting any process: print AWS_LAMBDA_RUNTIME_API and the environment to start your function with (under a debugger or an IDE), and wait. No timeout kill in this mode')
            [CompletionResult]::new('--ric', '--ric', [CompletionResultType]::ParameterName, 'With --handler: run the official runtime interface client (awslambdaric for Python, node_modules/aws-lambda-ric for Node) instead of kinlocal''s bundled one')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kinlocal;tail' {
            [CompletionResult]::new('--starting-position', '--starting-position', [CompletionResultType]::ParameterName, 'Where to start in each shard (the same words as `consume`)')
            [CompletionResult]::new('--starting-position-timestamp', '--starting-position-timestamp', [CompletionResultType]::ParameterName, 'With --starting-position at-timestamp: Unix seconds or an RFC 3339 time')
            [CompletionResult]::new('--after-sequence-number', '--after-sequence-number', [CompletionResultType]::ParameterName, 'Start right after this sequence number (needs --shard)')
            [CompletionResult]::new('--shard', '--shard', [CompletionResultType]::ParameterName, 'Read only this shard (`shardId-000000000001`, or just `1`)')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Print only records with this partition key')
            [CompletionResult]::new('--partition-key', '--partition-key', [CompletionResultType]::ParameterName, 'Print only records with this partition key')
            [CompletionResult]::new('--filter', '--filter', [CompletionResultType]::ParameterName, 'Print only records matching this pattern, in the syntax of Lambda''s FilterCriteria (e.g. ''{"data":{"type":["order"]}}''); repeatable: a record matching any is printed')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Stop after N records')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Stop after N records')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Kinesis + DynamoDB endpoint URL (e.g. http://127.0.0.1:4566). Overrides the environment and the state of `kinlocal up`')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile to use (with --aws, or for a profile that sets endpoint_url)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region (default: the state of `kinlocal up`, AWS_REGION, or us-east-1)')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Directory holding the state written by `kinlocal up` (default: $XDG_STATE_HOME/kinlocal)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Keep reading new records until Ctrl+C instead of stopping when caught up')
            [CompletionResult]::new('--follow', '--follow', [CompletionResultType]::ParameterName, 'Keep reading new records until Ctrl+C instead of stopping when caught up')
            [CompletionResult]::new('--base64', '--base64', [CompletionResultType]::ParameterName, 'Print each record''s data base64-encoded (for binary data)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'One JSON line per record, with AWS''s member names and the data in base64 (what `produce --from` and `event --records-from` replay)')
            [CompletionResult]::new('--aws', '--aws', [CompletionResultType]::ParameterName, 'Talk to real AWS (standard credential chain). Never done without this flag')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kinlocal;event' {
            [CompletionResult]::new('--record', '--record', [CompletionResultType]::ParameterName, 'A record''s data (any text, usually JSON); repeatable, in order')
            [CompletionResult]::new('--records-from', '--records-from', [CompletionResultType]::ParameterName, 'Records from newline-delimited JSON, as `produce --from` replays it: one record''s data per line, or the record lines `tail --json` prints (their partition keys are kept); ''-'' reads stdin')
            [CompletionResult]::new('--random', '--random', [CompletionResultType]::ParameterName, 'N random JSON records (the ones `produce` generates)')
            [CompletionResult]::new('--seed', '--seed', [CompletionResultType]::ParameterName, 'Seed for reproducible --random records')
            [CompletionResult]::new('--stream', '--stream', [CompletionResultType]::ParameterName, 'Stream name in `eventSourceARN`')
            [CompletionResult]::new('--shard-id', '--shard-id', [CompletionResultType]::ParameterName, 'Shard id in `eventID` (and `shardId` with --tumbling-window)')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'One partition key for every record [default: pk-0, pk-1, …]')
            [CompletionResult]::new('--partition-key', '--partition-key', [CompletionResultType]::ParameterName, 'One partition key for every record [default: pk-0, pk-1, …]')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, '`awsRegion` and the region in the ARNs')
            [CompletionResult]::new('--account-id', '--account-id', [CompletionResultType]::ParameterName, 'Account id in the ARNs')
            [CompletionResult]::new('--role-arn', '--role-arn', [CompletionResultType]::ParameterName, '`invokeIdentityArn` [default: arn:aws:iam::ACCOUNT:role/lambda-role, as consume]')
            [CompletionResult]::new('--tumbling-window', '--tumbling-window', [CompletionResultType]::ParameterName, 'Wrap the records in the envelope of a tumbling window of this length (the first invocation of the window: empty state)')
            [CompletionResult]::new('--pretty', '--pretty', [CompletionResultType]::ParameterName, 'Pretty-print the event (the bytes consume sends are compact)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kinlocal;serve' {
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Address to bind. Loopback unless you ask otherwise: any other address also needs --allow-remote, because the engine checks no signatures')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Port to listen on; 0 takes a free port (printed at start)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port to listen on; 0 takes a free port (printed at start)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'Region written into ARNs')
            [CompletionResult]::new('--account-id', '--account-id', [CompletionResultType]::ParameterName, 'Account id written into ARNs (12 digits)')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'Keep streams, records and tables in DIR so they survive restarts (and kill -9)')
            [CompletionResult]::new('--fsync', '--fsync', [CompletionResultType]::ParameterName, 'When journal writes reach the disk: `never` (the kernel decides, ~30 s on Linux; a killed engine loses nothing, a power cut the last half-minute), `batch` (within 1 s; a power cut loses at most about the last second) or `always` (before each answer; nothing acknowledged is lost, one disk flush per write)')
            [CompletionResult]::new('--create-stream-delay', '--create-stream-delay', [CompletionResultType]::ParameterName, 'How long a new stream stays CREATING (e.g. 500ms)')
            [CompletionResult]::new('--delete-stream-delay', '--delete-stream-delay', [CompletionResultType]::ParameterName, 'How long a deleted stream stays DELETING')
            [CompletionResult]::new('--update-stream-delay', '--update-stream-delay', [CompletionResultType]::ParameterName, 'How long a stream stays UPDATING after a reshard or retention change')
            [CompletionResult]::new('--create-table-delay', '--create-table-delay', [CompletionResultType]::ParameterName, 'How long a new DynamoDB table stays CREATING')
            [CompletionResult]::new('--max-retention', '--max-retention', [CompletionResultType]::ParameterName, 'Trim records older than this whatever a stream''s retention period says (AWS''s minimum is 24 hours): keeps the memory and the journal of a long-running engine bounded by recent traffic. Consumers further behind than this lose the records trimmed')
            [CompletionResult]::new('--iterator-ttl', '--iterator-ttl', [CompletionResultType]::ParameterName, 'How long a shard iterator stays valid (AWS: 5 minutes)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'A request''s headers, and then its body, must each arrive within this; a client that never finishes gets 408 and its connection is closed')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'A connection that moves no byte either way for this long is closed')
            [CompletionResult]::new('--subscription-lifetime', '--subscription-lifetime', [CompletionResultType]::ParameterName, 'Test only: how long a SubscribeToShard subscription lasts before the client must renew it (AWS: 5 minutes)')
            [CompletionResult]::new('--allow-remote', '--allow-remote', [CompletionResultType]::ParameterName, 'Allow a --host that is not loopback: anyone who can reach the port can read and write every stream and table, since the engine checks no signatures')
            [CompletionResult]::new('--repair', '--repair', [CompletionResultType]::ParameterName, 'Salvage damaged journals in --data-dir: keep every entry that still verifies, report what is lost, keep the damaged file beside the repaired one, then serve')
            [CompletionResult]::new('--enforce-limits', '--enforce-limits', [CompletionResultType]::ParameterName, 'Enforce per-shard throughput limits (writes 1 MiB/s and 1,000 records/s; reads 5 calls/s and 2 MiB/s) with ProvisionedThroughputExceededException, to test retry paths')
            [CompletionResult]::new('--no-long-poll', '--no-long-poll', [CompletionResultType]::ParameterName, 'Test only: answer every GetRecords at once, ignoring kinlocal''s long-poll hint, as the endpoints of `up --docker`, kinesalite or kinesis-mock do')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the listening address as one JSON line')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kinlocal;completions' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kinlocal;help' {
            [CompletionResult]::new('up', 'up', [CompletionResultType]::ParameterValue, 'Start a local Kinesis + DynamoDB endpoint (Docker containers or the embedded engine in the background), create the default stream and lease table, and record where it is')
            [CompletionResult]::new('down', 'down', [CompletionResultType]::ParameterValue, 'Stop and remove what `kinlocal up` started')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Health, streams and shards, and each consumer''s checkpoint and lag; exit 0 when healthy')
            [CompletionResult]::new('create-stream', 'create-stream', [CompletionResultType]::ParameterValue, 'Create a stream (default ''kinlocal'') and wait until it is ACTIVE; an existing stream of the same shape is fine')
            [CompletionResult]::new('delete-stream', 'delete-stream', [CompletionResultType]::ParameterValue, 'Delete a stream and wait until it is gone')
            [CompletionResult]::new('list-streams', 'list-streams', [CompletionResultType]::ParameterValue, 'List streams with their status, mode, shards and retention')
            [CompletionResult]::new('produce', 'produce', [CompletionResultType]::ParameterValue, 'Send records to a stream: random events, a template, or a replayed file')
            [CompletionResult]::new('consume', 'consume', [CompletionResultType]::ParameterValue, 'Run an executable as a Lambda function mapped to a Kinesis stream (event source mapping)')
            [CompletionResult]::new('invoke', 'invoke', [CompletionResultType]::ParameterValue, 'Run the function once with a Kinesis event and print its return value (like `sam local invoke`, without Docker)')
            [CompletionResult]::new('tail', 'tail', [CompletionResultType]::ParameterValue, 'Print a stream''s records (all shards, from --starting-position); -f keeps following')
            [CompletionResult]::new('event', 'event', [CompletionResultType]::ParameterValue, 'Print a Kinesis event exactly as `consume` delivers it, for a handler''s unit tests')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run the embedded Kinesis + DynamoDB engine in the foreground until SIGINT/SIGTERM')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions for kinlocal')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kinlocal;help;up' {
            break
        }
        'kinlocal;help;down' {
            break
        }
        'kinlocal;help;status' {
            break
        }
        'kinlocal;help;create-stream' {
            break
        }
        'kinlocal;help;delete-stream' {
            break
        }
        'kinlocal;help;list-streams' {
            break
        }
        'kinlocal;help;produce' {
            break
        }
        'kinlocal;help;consume' {
            break
        }
        'kinlocal;help;invoke' {
            break
        }
        'kinlocal;help;tail' {
            break
        }
        'kinlocal;help;event' {
            break
        }
        'kinlocal;help;serve' {
            break
        }
        'kinlocal;help;completions' {
            break
        }
        'kinlocal;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
