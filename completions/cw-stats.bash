# bash completion for cw-stats
_cw_stats()
{
	local cur prev
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	case $prev in
	-c|--config|-f|--l1-file)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	-o|--output)
		COMPREPLY=($(compgen -W "table json prom tsv" -- "$cur"))
		return ;;
	--interval|--count|--hot|--hit-rate-critical|--p99-critical|--memory-warning|--warm-failure-warning)
		return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "-c --config -f --l1-file -h --help
			-o --output --check --count --hit-rate-critical --hot
			--interval --memory-warning --p99-critical --reset
			--warm-failure-warning
			--version" -- "$cur"))
	else
		COMPREPLY=($(compgen -W "keys dump resize verify" -- "$cur"))
	fi
}
complete -F _cw_stats cw-stats
