/* cli_evaluate: `kerascope evaluate` (see cli.h for the calling convention). */
#ifndef CLI_EVALUATE_H
#define CLI_EVALUATE_H

int cli_evaluate(int argc, char **argv);

#define CLI_EVALUATE_SYNOPSIS "evaluate FILE --input X --labels-from COLUMN|LABELS [--labels NAMES] [--top-k K]  accuracy and loss on labelled data"

#endif
