/* verdict_text.h: the human form of a verdict, printed by certvalctl. */
#ifndef CV_VERDICT_TEXT_H
#define CV_VERDICT_TEXT_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

/*
 * Prints a verdict given in its JSON form (cv_verdict_to_json, or the daemon's reply): the
 * decision line, then the path; with verbose also the evidence and the trace. Missing or
 * mistyped members are printed as "?" rather than trusted.
 */
void cv_verdict_text_print(FILE *out, const json_t *verdict, bool verbose);

#endif
