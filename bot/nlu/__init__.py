"""Chinese NLU: the jieba tokenizer, the catalog phrase matcher and the data generated from the catalog."""
