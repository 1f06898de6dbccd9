"""Hypothesis strategies shared by the test modules (pytest puts this folder on sys.path)."""

from hypothesis import strategies as st

# (n, b, input_size, d, seed): small problems, so that hundreds of examples run in seconds.
sizes = st.tuples(
    st.integers(1, 6),  # n
    st.integers(1, 4),  # b
    st.integers(1, 5),  # input_size
    st.integers(1, 5),  # d
    st.integers(0, 2**32 - 1),  # seed
)
