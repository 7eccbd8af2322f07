#!/bin/sh
# Runs the container's command as PID 1, with environment variables expanded.
#
# An exec-form CMD is not run by a shell, so "$PORT" would reach gunicorn as the
# five characters $PORT; a shell-form CMD expands it but leaves sh as PID 1, and
# `docker stop` then waits 10 s for SIGKILL because sh ignores SIGTERM. Here
# every argument is quoted for `eval`, which expands the variables, and `exec`
# replaces this shell with the server, which then receives the signals itself.
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
