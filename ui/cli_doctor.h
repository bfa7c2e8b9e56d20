/* cli_doctor: `kerascope doctor` (see cli.h for the calling convention). */
#ifndef CLI_DOCTOR_H
#define CLI_DOCTOR_H

int cli_doctor(int argc, char **argv);

#define CLI_DOCTOR_SYNOPSIS "doctor FILE [FILE2] [--config ARCH] [--input X ...] [--explain]  why a reloaded model behaves differently"

#endif
