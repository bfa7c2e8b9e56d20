# fragment: Keras 3 / zip loading (see Makefile.am)
