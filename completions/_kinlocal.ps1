
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
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run the embedded Kinesis + DynamoDB engine in the foreground until SIGINT/SIGTERM')
            [CompletionResult]::new('up', 'up', [CompletionResultType]::ParameterValue, 'Start a local Kinesis + DynamoDB endpoint (Docker containers or the embedded engine in the background), create the default stream and lease table, and record where it is')
            [CompletionResult]::new('down', 'down', [CompletionResultType]::ParameterValue, 'Stop and remove what `kinlocal up` started')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Health, streams and shards, and each consumer''s checkpoint and lag; exit 0 when healthy')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions for kinlocal')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kinlocal;serve' {
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Address to bind. Loopback unless you ask otherwise')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Port to listen on; 0 takes a free port (printed at start)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port to listen on; 0 takes a free port (printed at start)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'Region written into ARNs')
            [CompletionResult]::new('--account-id', '--account-id', [CompletionResultType]::ParameterName, 'Account id written into ARNs (12 digits)')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'Keep streams, records and tables in DIR so they survive restarts (and kill -9)')
            [CompletionResult]::new('--create-stream-delay', '--create-stream-delay', [CompletionResultType]::ParameterName, 'How long a new stream stays CREATING (e.g. 500ms)')
            [CompletionResult]::new('--delete-stream-delay', '--delete-stream-delay', [CompletionResultType]::ParameterName, 'How long a deleted stream stays DELETING')
            [CompletionResult]::new('--update-stream-delay', '--update-stream-delay', [CompletionResultType]::ParameterName, 'How long a stream stays UPDATING after a reshard or retention change')
            [CompletionResult]::new('--create-table-delay', '--create-table-delay', [CompletionResultType]::ParameterName, 'How long a new DynamoDB table stays CREATING')
            [CompletionResult]::new('--iterator-ttl', '--iterator-ttl', [CompletionResultType]::ParameterName, 'How long a shard iterator stays valid (AWS: 5 minutes)')
            [CompletionResult]::new('--enforce-limits', '--enforce-limits', [CompletionResultType]::ParameterName, 'Enforce per-shard throughput limits (writes 1 MiB/s and 1,000 records/s; reads 5 calls/s and 2 MiB/s) with ProvisionedThroughputExceededException, to test retry paths')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the listening address as one JSON line')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
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
            [CompletionResult]::new('--print-env', '--print-env', [CompletionResultType]::ParameterName, 'Print `export AWS_ENDPOINT_URL=… AWS_REGION=… AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=…` on stdout (progress goes to stderr), for `eval "$(kinlocal up --print-env)"`')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kinlocal;down' {
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'The state directory `up` used [default: $XDG_STATE_HOME/kinlocal]')
            [CompletionResult]::new('--purge', '--purge', [CompletionResultType]::ParameterName, 'Also delete the data kept with `up --persist`')
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
        'kinlocal;completions' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kinlocal;help' {
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run the embedded Kinesis + DynamoDB engine in the foreground until SIGINT/SIGTERM')
            [CompletionResult]::new('up', 'up', [CompletionResultType]::ParameterValue, 'Start a local Kinesis + DynamoDB endpoint (Docker containers or the embedded engine in the background), create the default stream and lease table, and record where it is')
            [CompletionResult]::new('down', 'down', [CompletionResultType]::ParameterValue, 'Stop and remove what `kinlocal up` started')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Health, streams and shards, and each consumer''s checkpoint and lag; exit 0 when healthy')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions for kinlocal')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kinlocal;help;serve' {
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
