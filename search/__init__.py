"""Query in, cited passages out: the index, retrieval, fusion, answers and comparison."""
