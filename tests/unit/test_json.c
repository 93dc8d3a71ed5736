#include "runner.h"

const sg_test_t sg_suite_json[] = {SG_SUITE_END};
