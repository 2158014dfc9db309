# bash completion for cw-bench
_cw_bench()
{
	local cur prev
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	case $prev in
	--instruments|--rate|--seed|--start|--weeks|--interval|--look-ahead|\
	--budget|--jobs|--source|--backfill-days|--key|--duration)
		return ;;
	-c|--config|--trace|--plot|--report)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	--keep)
		COMPREPLY=($(compgen -d -- "$cur"))
		return ;;
	-o|--output)
		COMPREPLY=($(compgen -W "table json screen tsv" -- "$cur"))
		return ;;
	--strategy)
		COMPREPLY=($(compgen -W "none market_open predictive
			refresh_ahead oracle backfill xfetch" -- "$cur"))
		return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "-c -h -o --backfill-days --budget
			--config --duration --help --live
			--instruments --interval --jobs --keep --key
			--look-ahead --output --plot --quick --rate --report --seed --source
			--start --strategy
			--trace --version --weeks" -- "$cur"))
	else
		COMPREPLY=($(compgen -W "generate replay quick live" -- "$cur"))
	fi
}
complete -F _cw_bench cw-bench
