# bash completion for platctl.
# Candidates come from `platctl __complete WORDS...`, which reads the same option and
# command tables as the parser, so completion cannot drift from what platctl accepts.
_platctl() {
	local cur=${COMP_WORDS[COMP_CWORD]}
	local IFS=$'\n'
	local out
	out=$("${COMP_WORDS[0]}" __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return 0
	COMPREPLY=()
	case $out in
	:file)
		compopt -o filenames 2>/dev/null || true
		COMPREPLY=($(compgen -f -- "$cur"))
		;;
	:dir)
		compopt -o filenames 2>/dev/null || true
		COMPREPLY=($(compgen -d -- "$cur"))
		;;
	:documents)
		COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" documents list -o ids --limit 1000 2>/dev/null)" -- "$cur"))
		;;
	*)
		COMPREPLY=($(compgen -W "$out" -- "$cur"))
		;;
	esac
	return 0
}
complete -F _platctl platctl
