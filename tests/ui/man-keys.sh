#!/bin/sh
# man-keys.sh HELP_SCREEN: prints the man page section between the markers
# `.\" BEGIN INTERACTIVE` and `.\" END INTERACTIVE` of man/kerascope.1.in,
# generated from a saved help overlay (itself generated from the one key
# table, ui/ui_keys.h). man-test checks that the man page holds exactly this,
# so keys, help and man page cannot drift apart. To update the man page after
# changing the table: run man-test and paste its "expected" section.
set -u
cat <<'ROFF'
With a terminal on standard input and output,
.B kerascope
.I FILE
opens the inspector: the model as a tree of layers in Keras order (nested
models expand in place, shared layers are marked
.BR x N,
inbound layers of functional models follow an arrow) with class, output shape
and parameters; a detail pane for the selected layer (its config, values that
differ from the usual defaults first; its weights with shape, dtype and
statistics; where each weight lives in the file); a tensor view for a weight
or an activation (statistics, histogram, heatmap of a 2-D slice and a
scrollable value grid); a file view (format, versions, backend, training and
compile config, optimizer state); and a command pane.
Files that are not Keras models show their HDF5 tree instead.
Without a terminal,
.B kerascope
.I FILE
prints the summary.
.PP
Diff mode
.RB ( ":diff "
.IR OTHER ,
or
.B kerascope
.IR "A B" )
compares the open model with another file once, shows the report in a pane,
and marks the browser: each layer gets a change mark (same, changed,
renamed with
.IR "a -> b" ,
added, removed, reshaped, order for a class-order permutation, config for
settings only) and a heat by its relative change (colour, or shades without
colour); layers only the other file has follow the open model's. The detail
pane adds the pairing, each weight's max |a\-b|, mean, RMS, cosine and
changed count, and both values of every setting that differs. The tensor view
of a paired weight shows a, b or a\-b (key
.BR d ;
a\-b with its statistics, histogram and a heatmap of |a\-b|), where
.B n
and
.B N
jump to the next and previous changed element.
.B :diff \-\-input
.I X
(or
.B \-\-random
.IR SEED )
runs both models and marks the first layer whose output diverges with
.BR ! ;
.B :diff off
returns to the single model.
.PP
Only what the screen shows is read: weight values are read when a weight is
opened, and only the visible part of the value grid.
Long work (statistics of a large tensor, a heatmap, a search, a command) shows
its progress and stops at Ctrl-C without leaving the program.
Errors appear in the message line at the bottom.
ROFF
awk '
function trim(s) { sub(/^ +/, "", s); sub(/ +$/, "", s); return s }
/^>?kerascope .*: keys/ { started = 1; next }
!started { next }
/^ Commands \(/ { print ".SS Commands"; print "The command pane (\\fB:\\fP) takes the command\\-line subcommands, which run on"; print "the open file with the same arguments as on the command line, and these:"; cmds = 1; next }
/^ [A-Z]/ && !cmds { if (!keys) { print ".SS Keys"; keys = 1 } print ".PP"; print ".B " trim($0); next }
/^   [^ ]/ {
	line = substr($0, 4)
	n = match(line, /  +/)
	if (!n) next
	label = substr(line, 1, n - 1)
	desc = trim(substr(line, n))
	print ".TP"
	print ".B " label
	print desc
}
' "$1"
cat <<'ROFF'
.SS Command pane
The command pane is GNU readline: the usual editing keys work, Tab completes
commands, options, layer and weight names, and file names, and Up and Down walk
the history.
The history is kept, without duplicates, in
.IR $XDG_DATA_HOME/kerascope/history
(default
.IR ~/.local/share/kerascope/history ).
The readline name is
.BR kerascope ,
so
.B $if kerascope
sections of
.I ~/.inputrc
apply.
After
.BR :predict ,
every layer's activation is kept: select a layer and open its
.B output
row in the detail pane, or use
.BI :show " LAYER".
.SS Scripts and headless use
.TP
.BI KERASCOPE_SCRIPT= FILE
Feeds the inspector from
.I FILE
before the keyboard (instead of it without a terminal), one item per line:
.BI : command
types the command and Enter (through readline, as a user would; end the line
with
.B <NoEnter>
to leave it unsent);
.BI @save\-display " FILE"
writes the screen as text;
.BI @resize " COLS" x ROWS
resizes the screen;
.B #
starts a comment; any other line is keys, with
.BR <Up> ,
.BR <Down> ,
.BR <Left> ,
.BR <Right> ,
.BR <PgUp> ,
.BR <PgDn> ,
.BR <Home> ,
.BR <End> ,
.BR <Enter> ,
.BR <Tab> ,
.BR <Esc> ,
.BR <BS> ,
.BR <Del> ,
.BR <Space> ,
.BR <lt> ,
.BR <F1> ... <F12> ,
.BI <C\- x>
and the mouse events
.BI <Click: X , Y > ,
.BI <WheelUp: X , Y >
and
.BI <WheelDown: X , Y >.
.TP
.B KERASCOPE_NO_DISPLAY
When set, the screen is drawn into
.I /dev/null
(its size from
.B LINES
and
.BR COLUMNS );
with a script, the program ends when the script does.
.TP
.B NO_COLOR
No colour: the heatmap uses shaded blocks.
Box and tree characters fall back to ASCII outside UTF\-8 locales.
.TP
.B TERM=dumb
A terminal that cannot move the cursor cannot show the inspector:
.B kerascope
.I FILE
prints the summary instead, with a note on standard error.
Scripts with
.B KERASCOPE_NO_DISPLAY
work with any
.BR TERM .
.PP
The terminal is restored on exit, on Ctrl\-Z (the screen comes back with
.BR fg ),
and on fatal signals.
Anything a library prints while the screen is in use is kept and shown on
standard error after the program ends.
Commands from the command pane run as a separate process, so Ctrl\-C stops
them (a long
.BR :predict ,
for example) and a failure cannot end the inspector.
Known limitation: multibyte characters typed during readline's reverse
incremental search (Ctrl\-R) are not supported.
ROFF
