# bash completion for cw-bench: the options of the mode already chosen
# (generate, replay, quick, live), else every mode and option (the
# benchmark, --duration alone, takes generate's and replay's).
_cw_bench()
{
	local cur prev
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	# --duration without a mode is the benchmark, whose -o is a file.
	local mode="" duration="" w
	for w in "${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
		case $w in
		generate|replay) mode=$w ;;
		quick|--quick) mode=quick ;;
		live|--live) mode=live ;;
		--duration|--duration=*) duration=1 ;;
		esac
	done
	case $prev in
	--instruments|--rate|--seed|--start|--weeks|--interval|--look-ahead|\
	--budget|--jobs|--source|--backfill-days|--key|--duration|\
	--min-probability)
		return ;;
	-c|--config|--trace|--truth|--plot|--report)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	--keep)
		COMPREPLY=($(compgen -d -- "$cur"))
		return ;;
	-o|--output)
		if [[ -z $mode && -n $duration ]]; then
			COMPREPLY=($(compgen -f -- "$cur"))
		else
			COMPREPLY=($(compgen -W "table json screen tsv" -- "$cur"))
		fi
		return ;;
	--strategy)
		COMPREPLY=($(compgen -W "none market_open predictive
			refresh_ahead oracle backfill xfetch combined
			combined_oracle" -- "$cur"))
		return ;;
	esac
	if [[ $cur == -* ]]; then
		case $mode in
		generate) COMPREPLY=($(compgen -W "-h --help --instruments
			--rate --seed --start --truth --weeks --wide" -- "$cur")) ;;
		replay) COMPREPLY=($(compgen -W "-c --config -h --help -o
			--output --backfill-days --budget --interval --jobs
			--keep --look-ahead --min-probability --plot --report
			--source --strategy --trace" -- "$cur")) ;;
		quick) COMPREPLY=($(compgen -W "-c --config -h --help
			--key" -- "$cur")) ;;
		live) COMPREPLY=($(compgen -W "-c --config -h --help -o
			--output --duration --interval" -- "$cur")) ;;
		*) COMPREPLY=($(compgen -W "-c -h -o --backfill-days --budget
			--config --duration --help --live
			--instruments --interval --jobs --keep --key
			--look-ahead --min-probability --output --plot --quick
			--rate --report --seed --source
			--start --strategy
			--trace --truth --version --weeks --wide" -- "$cur")) ;;
		esac
	elif [[ -z $mode ]]; then
		COMPREPLY=($(compgen -W "generate replay quick live" -- "$cur"))
	fi
}
complete -F _cw_bench cw-bench
