#include "runner.h"

const sg_test_t sg_suite_store[] = {SG_SUITE_END};
