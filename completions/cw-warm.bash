# bash completion for cw-warm
_cw_warm()
{
	local cur prev
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	case $prev in
	-c|--config|-f|--l1-file)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	-o|--output)
		COMPREPLY=($(compgen -W "tsv json" -- "$cur"))
		return ;;
	--session)
		COMPREPLY=($(compgen -W "auto sydney tokyo london newyork fomc rba boe boc" \
			-- "$cur"))
		return ;;
	--strategy)
		COMPREPLY=($(compgen -W "on_demand market_open predictive
			pattern background" -- "$cur"))
		return ;;
	-j|--jobs|--at|--deadline|--interval|--lead|--look-ahead|--max-rate|\
	--below|--min-coverage|--min-probability|--resume|--warn-coverage)
		return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "-c --config -f --l1-file -h --help
			-j --jobs -n --dry-run -o --output -v --verbose --at
			--check --deadline --drop --force --interval --lead
			--look-ahead --max-rate --min-coverage --min-probability
			--optimize --refresh --refresh-ahead --below --resume --session --status
			--strategy --version --wait --warn-coverage" -- "$cur"))
	fi
}
complete -F _cw_warm cw-warm
