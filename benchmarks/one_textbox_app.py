"""The smallest Gradio app, one textbox, for first_load.py's page-GET comparison: what any Gradio
page costs its server, against which the hub's page is measured.

    python benchmarks/one_textbox_app.py --port PORT
"""

import argparse

import gradio as gr

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_known_args()[0].port
    with gr.Blocks() as demo:
        gr.Textbox(label="Texte")
    demo.launch(server_name="127.0.0.1", server_port=port, ssr_mode=False)
