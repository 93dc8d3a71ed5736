/* The unit-test suites, one per tests/unit/test_<suite>.c. Included with XX defined. */
XX(json)
XX(schema)
XX(store)
XX(catalog)
XX(policy)
XX(envelope)
XX(auth)
XX(review)
