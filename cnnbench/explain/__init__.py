"""Looking inside a trained CNN: filters, activation maximisation, saliency, occlusion."""
