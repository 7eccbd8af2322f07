#!/bin/sh
# Runs the container's command as PID 1, with environment variables expanded.
#
# Docker runs an exec-form command without a shell, so "$PORT" would arrive as
# the five characters $PORT. For one fixed command, less is enough:
#   - a server that reads the variable itself: gunicorn binds 0.0.0.0:$PORT when
#     PORT is set, so CMD ["gunicorn", "app:create_app()"] needs no expansion;
#   - a shell-form CMD that starts with exec, CMD exec gunicorn --bind :$PORT app:
#     sh expands it, then hands PID 1 to the server. Without the exec, Debian's
#     sh stays PID 1, ignores SIGTERM, and `docker stop` waits 10 s for SIGKILL.
# This entrypoint is for any command, from anyone: arguments after the image
# name, compose's `command:` and Kubernetes' `args:` are exec form too, and here
# they may say $VAR and still run as PID 1. The development CMD relies on it:
# `flask run` reads FLASK_RUN_PORT, not PORT. Each argument is quoted for `eval`,
# which expands only what the rule below allows, and `exec` replaces this shell
# with the command, which then receives the signals itself.
#
# The rule, for each argument:
#   $NAME and ${NAME}  expand to the variable's value, as one argument, never split;
#                      an unset variable stops the container with an error
#   $$                 is a literal $ (as in Compose files)
#   everything else    arrives as written: quotes, spaces, backslashes, (), and
#                      $(...), `...` or ${NAME:-default} are never executed
set -eu

is_name() {
  case $1 in
    '' | [0-9]* | *[!A-Za-z0-9_]*) return 1 ;;
  esac
}

# Print $1 as one double-quoted word for eval: escape every character that
# double quotes would interpret (\ " ` $) except the references the rule allows.
#
# It walks the argument from the left: `rest` is what is still to read, `word`
# what is already quoted, and `tail` is `rest` without its first character.
# Each turn either consumes a whole reference ($$, ${NAME} or $NAME: the
# `case` patterns, then `continue`) or, failing that, one character, which is
# escaped if double quotes would give it a meaning. Only POSIX parameter
# expansion is used (${x#?} drops one character, ${x%%pat} cuts at the first
# match), so it runs the same in dash, bash and busybox sh.
quote() {
  rest=$1
  word=
  while [ -n "$rest" ]; do
    tail=${rest#?}
    case $rest in
      '$$'*) # an escaped dollar: a literal $ in the word
        word="$word\\\$"
        rest=${rest#??}
        continue
        ;;
      \$\{*\}*) # ${...}: kept as a reference only if what is inside is a plain name
        name=${rest#??}
        name=${name%%\}*}
        if is_name "$name"; then
          word="$word\${$name}"
          rest=${rest#*\}}
          continue
        fi
        ;;
      '$'[A-Za-z_]*) # $NAME: the longest run of name characters after the $
        name=${tail%%[!A-Za-z0-9_]*}
        word="$word\${$name}"
        rest=${tail#"$name"}
        continue
        ;;
    esac
    # Not a reference: take one character, escaped if it means something in "...".
    char=${rest%"$tail"}
    case $char in
      \\ | \" | \` | \$) word="$word\\$char" ;;
      *) word="$word$char" ;;
    esac
    rest=$tail
  done
  printf '"%s"' "$word"
}

command=
for argument in "$@"; do
  command="$command $(quote "$argument")"
done
eval "exec $command"
