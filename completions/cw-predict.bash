# bash completion for cw-predict: the options of the mode already chosen
# (pattern, stats, export, import, backtest, --learn), else every mode
# and option.
_cw_predict()
{
	local cur prev mode="" w
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	for w in "${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
		case $w in
		pattern|stats|export|import|backtest|--learn) mode=$w ;;
		esac
	done
	case $prev in
	-c|--config|--state|--log|--truth|import|backtest)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	-o|--output)
		COMPREPLY=($(compgen -W "tsv json" -- "$cur"))
		return ;;
	--at|--look-ahead|--window|--top|--min-probability|--min-confidence|pattern)
		return ;;
	esac
	local common="-c --config -h --help --state"
	if [[ $cur == -* ]]; then
		case $mode in
		pattern) COMPREPLY=($(compgen -W "$common --at" -- "$cur")) ;;
		stats) COMPREPLY=($(compgen -W "$common -o --output" -- "$cur")) ;;
		export|import) COMPREPLY=($(compgen -W "$common" -- "$cur")) ;;
		backtest) COMPREPLY=($(compgen -W "$common -o --output
			--truth --window" -- "$cur")) ;;
		--learn) COMPREPLY=($(compgen -W "$common --at --log
			--rebuild" -- "$cur")) ;;
		*) COMPREPLY=($(compgen -W "$common -o --output --at
			--learn --log --look-ahead --min-confidence
			--min-probability --no-learn --rebuild --top
			--version --window" -- "$cur")) ;;
		esac
	elif [[ -z $mode ]]; then
		COMPREPLY=($(compgen -W "pattern stats export import backtest" \
			-- "$cur"))
	fi
}
complete -F _cw_predict cw-predict
