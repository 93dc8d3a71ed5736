#include "runner.h"

const sg_test_t sg_suite_schema[] = {SG_SUITE_END};
