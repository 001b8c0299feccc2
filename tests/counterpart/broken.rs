//! `mocks/broken-provider`: each seeded defect.
