/* One function per subcommand (git's builtin/ pattern); main.c's table dispatches to them.
 * Each returns an exit code from util/exitcode.h. */
#pragma once

int cmd_explain(int argc, char **argv);
int cmd_symbolize(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_advise(int argc, char **argv);
int cmd_drill(int argc, char **argv);
