#include "runner.h"

const sg_test_t sg_suite_catalog[] = {SG_SUITE_END};
