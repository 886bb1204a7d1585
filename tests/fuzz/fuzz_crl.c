/* fuzz_crl.c: libFuzzer target over CRL ingestion (strict DER reader, CRL reader, index). */
#include <stddef.h>
#include <stdint.h>

#include "../../validator/crl/crl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cv_crl *crl;
	struct cv_error err;
	struct cv_crl_entry e;
	const struct cv_crl_info *info;
	static const uint8_t probe[] = {0x01};
	char number[64];

	if (cv_crl_ingest(data, size, NULL, &crl, &err) < 0)
		return 0;
	info = cv_crl_get_info(crl);
	(void)cv_crl_lookup(crl, info->issuer, info->issuer_len, probe, sizeof(probe), &e);
	(void)cv_crl_lookup(crl, NULL, 0, data, size < 20 ? size : 20, &e);
	cv_crl_number_hex(crl, number, sizeof(number));
	cv_crl_free(crl);
	return 0;
}
