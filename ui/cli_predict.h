/* cli_predict: `kerascope predict` (see cli.h for the calling convention). */
#ifndef CLI_PREDICT_H
#define CLI_PREDICT_H

int cli_predict(int argc, char **argv);

#define CLI_PREDICT_SYNOPSIS "predict FILE [--input X ...|--random SEED|--zeros] [-o OUT.npy] [--trace] [--top K]  run the model"

#endif
