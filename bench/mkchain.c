/* mkchain: writes the long-chain model of tests/h5_build.h (hb_chain_model)
 * for timing `kerascope summary` by hand (bench/README).
 *
 *   bench/mkchain N OUT.h5
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "../tests/h5_build.h"

int main(int argc, char **argv)
{
	int n = argc == 3 ? atoi(argv[1]) : 0;

	if (n < 1) {
		fputs("usage: mkchain N OUT.h5\n", stderr);
		return 2;
	}
	hb_chain_model(argv[2], n);
	return 0;
}
