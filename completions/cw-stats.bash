# bash completion for cw-stats: the options of the mode already chosen
# (keys, dump, resize, verify, config, --check), else every mode and option.
_cw_stats()
{
	local cur prev mode="" w
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	for w in "${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
		case $w in
		keys|dump|resize|verify|config|--check) mode=$w ;;
		esac
	done
	case $prev in
	-c|--config|-f|--l1-file|dump)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	-o|--output)
		case $mode in
		keys) COMPREPLY=($(compgen -W "tsv json" -- "$cur")) ;;
		*) COMPREPLY=($(compgen -W "table json prom" -- "$cur")) ;;
		esac
		return ;;
	--window)
		COMPREPLY=($(compgen -W "1m 5m 15m" -- "$cur"))
		return ;;
	--interval|--count|--hot|--hit-rate-critical|--hit-rate-warning|--p99-critical|--p99-warning|--memory-warning|--warm-failure-warning)
		return ;;
	esac
	local common="-c --config -f --l1-file -h --help"
	if [[ $cur == -* ]]; then
		case $mode in
		keys) COMPREPLY=($(compgen -W "$common -o --output --hot" -- "$cur")) ;;
		dump) COMPREPLY=($(compgen -W "$common --hot" -- "$cur")) ;;
		resize|verify) COMPREPLY=($(compgen -W "$common" -- "$cur")) ;;
		config) COMPREPLY=($(compgen -W "-c --config -h --help" -- "$cur")) ;;
		--check) COMPREPLY=($(compgen -W "$common --hit-rate-critical
			--hit-rate-warning --memory-warning --p99-critical
			--p99-warning --warm-failure-warning --window" -- "$cur")) ;;
		*) COMPREPLY=($(compgen -W "$common
			-o --output --check --count --hot --interval --reset
			--window --version" -- "$cur")) ;;
		esac
	elif [[ -z $mode ]]; then
		COMPREPLY=($(compgen -W "keys dump resize verify config" -- "$cur"))
	fi
}
complete -F _cw_stats cw-stats
