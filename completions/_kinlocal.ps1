
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
        'kinlocal;completions' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kinlocal;help' {
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run the embedded Kinesis + DynamoDB engine in the foreground until SIGINT/SIGTERM')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions for kinlocal')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
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
