# bash completion for cw-predict
_cw_predict()
{
	local cur prev
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	case $prev in
	-c|--config|--state|--log|import|backtest)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	-o|--output)
		COMPREPLY=($(compgen -W "tsv json" -- "$cur"))
		return ;;
	--at|--look-ahead|--window|--top|--min-probability|--min-confidence|pattern)
		return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "-c --config -h --help -o --output --at
			--learn --log --look-ahead --min-confidence
			--min-probability --no-learn --rebuild --state --top
			--version --window" -- "$cur"))
	else
		COMPREPLY=($(compgen -W "pattern stats export import backtest" \
			-- "$cur"))
	fi
}
complete -F _cw_predict cw-predict
