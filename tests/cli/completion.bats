#!/usr/bin/env bats
# Shell completion: the __complete helper and the bash, zsh and fish scripts around it.
load helpers

setup() {
	isolate
	BIN="$BATS_TEST_TMPDIR/bin"
	mkdir -p "$BIN"
	ln -s "$PLATCTL" "$BIN/platctl"
	export PATH="$BIN:$PATH"
}

@test "__complete offers commands, subcommands, options and option values" {
	[ "$(platctl __complete co | tr '\n' ' ')" = "config consume compliance " ]
	[ "$(platctl __complete compliance validate --r)" = "--rules" ]
	[ "$(platctl __complete compliance validate --rules '')" = ":file" ]
	[ "$(platctl __complete conf)" = "config" ]
	[ "$(platctl __complete config '' | tr '\n' ' ')" = "show validate example " ]
	run platctl __complete config show --
	[[ "$output" == *"--output"* && "$output" == *"--config"* && "$output" == *"--help"* ]]
	[ "$(platctl __complete version --sh)" = "--short" ]
	[ "$(platctl __complete -o '' | tr '\n' ' ')" = "table json yaml ids markdown csv " ]
	[ "$(platctl __complete --config '')" = ":file" ]
	[ "$(platctl __complete config show log.)" = "$(printf 'log.level\nlog.format')" ]
	[ "$(platctl __complete help v)" = "version" ]
	[ -z "$(platctl __complete __comp)" ] # hidden commands are not offered
}

@test "bash completion script completes through platctl" {
	source "$ROOT/completions/platctl.bash"
	COMP_WORDS=(platctl conf); COMP_CWORD=1
	_platctl
	[ "${COMPREPLY[*]}" = "config" ]
	COMP_WORDS=(platctl config s); COMP_CWORD=2
	_platctl
	[ "${COMPREPLY[*]}" = "show" ]
	COMP_WORDS=(platctl config show -o y); COMP_CWORD=4
	_platctl
	[ "${COMPREPLY[*]}" = "yaml" ]
	touch "$BATS_TEST_TMPDIR/myconf.yaml"
	COMP_WORDS=(platctl --config "$BATS_TEST_TMPDIR/mycon"); COMP_CWORD=2
	_platctl
	[ "${COMPREPLY[*]}" = "$BATS_TEST_TMPDIR/myconf.yaml" ]
}

@test "fish completion script completes through platctl" {
	command -v fish >/dev/null || skip "fish not installed"
	run fish --no-config -c "source $ROOT/completions/platctl.fish; complete -C 'platctl conf'; complete -C 'platctl config v'; complete -C 'platctl -o j'"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'config\nvalidate\njson')" ]
}

@test "zsh completion script is valid zsh and completes through platctl" {
	command -v zsh >/dev/null || skip "zsh not installed"
	zsh -n "$ROOT/completions/_platctl"
	# Drive the function with stand-ins for compadd/_files to see what it offers.
	run zsh -fc "
		compadd() { shift; print -l -- \${(P)1}; }
		_files() { print FILES; }
		source $ROOT/completions/_platctl 2>/dev/null
		words=(platctl config ''); CURRENT=3; _platctl
		words=(platctl --config ''); CURRENT=3; _platctl"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'show\nvalidate\nexample\nFILES')" ]
}
