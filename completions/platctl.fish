# fish completion for platctl. Candidates come from `platctl __complete WORDS...`, which
# reads the same option and command tables as the parser.
function __platctl_complete
    set -l tokens (commandline -opc)
    set -l cur (commandline -ct)
    set -l out ($tokens[1] __complete $tokens[2..-1] "$cur" 2>/dev/null)
    switch "$out[1]"
        case :file
            __fish_complete_path "$cur"
        case :dir
            __fish_complete_directories "$cur"
        case :documents
            $tokens[1] documents list -o ids --limit 1000 2>/dev/null
        case '*'
            printf '%s\n' $out
    end
end
complete -c platctl -f -a '(__platctl_complete)'
