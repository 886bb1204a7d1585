/*
 * replay.c: runs a libFuzzer target over every file of a corpus directory (and over every
 * truncation of each short file, of 64 of a longer one), so the fuzz targets run as ordinary
 * unit tests, under ASan in CI.
 * usage: replay DIR
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../common/util.h"

#define TRUNCATIONS 64 /* truncations replayed of a file longer than that */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
main(int argc, char **argv)
{
	DIR *d;
	struct dirent *de;
	int files = 0;

	if (argc != 2 || (d = opendir(argv[1])) == NULL) {
		fprintf(stderr, "usage: replay CORPUS-DIR\n");
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		char path[4096];
		uint8_t *data;
		size_t len;
		struct cv_error err;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", argv[1], de->d_name);
		if (cv_read_file(path, 1 << 24, &data, &len, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			closedir(d);
			return 1;
		}
		LLVMFuzzerTestOneInput(data, len);
		/* every truncation of a short file; 64 spread evenly over a longer one, so that the
		 * corpora a fuzzing campaign grows (scripts/fuzz.sh) stay quick to replay */
		for (size_t i = 0; i < len && len <= 4096;
		     i += len <= TRUNCATIONS ? 1 : len / TRUNCATIONS)
			LLVMFuzzerTestOneInput(data, i);
		free(data);
		files++;
	}
	closedir(d);
	printf("%d corpus files replayed\n", files);
	return files > 0 ? 0 : 1;
}
