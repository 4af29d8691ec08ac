"""Brazilian Portuguese templates and slot values (written for this project).

Times and rooms carry their preposition ("às 7h", "na cozinha"); places and teams carry their
article and follow only prepositions that do not contract ("para o aeroporto", "até a praia").
"""

TEMPLATES: dict[str, tuple[str, ...]] = {
    "add_to_shopping_list": (
        "Coloca {item} na minha {list}.",
        "Põe {item} na {list}.",
        "Coloca {item} e {item2} na minha {list}.",
        "Adiciona {item} e {item2} à {list}.",
        "Você pode adicionar {item} à minha {list}?",
        "Anota {item} na minha {list}, por favor.",
    ),
    "book_restaurant": (
        "Reserva uma mesa para {party} pessoas num bom restaurante {cuisine} {date}.",
        "Reserva uma mesa para {party} pessoas em {city} {date} {time}.",
        "Preciso de uma reserva para {party} pessoas {time}.",
        "Acha um restaurante {cuisine} em {city} e reserva para {party} pessoas.",
        "Você pode reservar uma mesa para {party} pessoas {date} {time}?",
        "Faz uma reserva no melhor restaurante {cuisine} de {city}.",
    ),
    "book_taxi": (
        "Chama um táxi para {place}.",
        "Pede um táxi para {place} {time}.",
        "Preciso de um carro para ir até {place} {date} {time}.",
        "Chama um táxi {time}, eu vou para {place}.",
        "Você pode chamar um táxi para {place}?",
        "Agenda um carro para {place} {date} {time}.",
    ),
    "call_contact": (
        "Liga para {contact}.",
        "Liga para {contact} {phone}.",
        "Liga para {contact} no viva-voz.",
        "Por favor, telefona para {contact}.",
        "Você pode ligar para {contact} {phone}?",
        "Quero ligar para {contact}.",
        "Faz uma ligação para {contact}.",
    ),
    "check_calendar": (
        "O que tem na minha agenda {date}?",
        "Tenho algum compromisso {date}?",
        "Estou livre {date} {time}?",
        "Quando é {event}?",
        "Que horas é {event} {date}?",
        "Como está minha agenda {date}?",
    ),
    "find_recipe": (
        "Me mostra uma receita de {dish}.",
        "Como faz {dish}?",
        "Procura uma receita fácil de {dish}.",
        "Quero cozinhar {dish} para {party} pessoas.",
        "O que eu preciso para fazer {dish}?",
        "Me dá uma receita rápida de {dish} para {party} pessoas.",
    ),
    "get_definition": (
        "O que significa “{word}”?",
        "Define “{word}”.",
        "Qual é a definição de “{word}”?",
        "O que quer dizer a palavra “{word}”?",
        "Procura “{word}” no dicionário.",
        "Você pode me explicar o que significa “{word}”?",
    ),
    "get_news_update": (
        "Quais são as últimas notícias de {topic}?",
        "Me dá as notícias de {topic} de {city}.",
        "Lê as manchetes de {topic} de hoje.",
        "Tem novidade de {topic} em {city} hoje?",
        "Toca o boletim de notícias de {topic}.",
        "Quais são as principais notícias de {topic} em {city} hoje de manhã?",
    ),
    "get_sports_score": (
        "Será que {team} ganhou {past}?",
        "Como {team} se saiu {past}?",
        "Quem ganhou o jogo entre {team} e {team2}?",
        "Será que {team} está ganhando agora?",
        "Qual é o placar entre {team} e {team2}?",
        "Quando joga {team}?",
    ),
    "get_traffic": (
        "Como está o trânsito até {place}?",
        "Quanto tempo eu levo de carro até {place}?",
        "Tem trânsito no caminho para {place} agora?",
        "Quanto tempo leva até {place} {time}?",
        "As ruas estão congestionadas até {place}?",
        "Como vai estar o trânsito para {place} {time}?",
    ),
    "get_weather": (
        "Como vai estar o tempo em {city} {day}?",
        "Vai chover em {city} {day}?",
        "Vai fazer calor em {city} {day}?",
        "Qual é a previsão do tempo para {city}?",
        "Preciso de guarda-chuva em {city} {day}?",
        "Vai esfriar em {city} {day}?",
        "Qual é a temperatura agora em {city}?",
    ),
    "order_food": (
        "Pede {dish} para entrega.",
        "Quero pedir {dish} para chegar {time}.",
        "Pede {dish} para entregar em casa.",
        "Você pode pedir {dish} e {dish2}?",
        "Pede {dish} do meu restaurante favorito.",
        "Pede {dish} para o jantar.",
    ),
    "play_music": (
        "Toca {artist}.",
        "Toca {artist} {room}.",
        "Toca um pouco de {genre} {room}.",
        "Quero ouvir {genre}.",
        "Toca músicas de {artist} no modo aleatório.",
        "Toca o último álbum de {artist} {room}.",
        "Você pode tocar {genre} para relaxar?",
    ),
    "play_podcast": (
        "Toca um podcast sobre {ptopic}.",
        "Toca um podcast sobre {ptopic} {room}.",
        "Coloca o último episódio do meu podcast sobre {ptopic}.",
        "Me acha um bom podcast sobre {ptopic}.",
        "Continua meu podcast sobre {ptopic} {room}.",
        "Eu queria ouvir um podcast sobre {ptopic}.",
    ),
    "play_radio": (
        "Toca a {freq} FM.",
        "Sintoniza a rádio {freq} FM {room}.",
        "Liga o rádio na {freq}.",
        "Coloca uma rádio de {genre}.",
        "Toca uma rádio de {genre} {room}.",
        "Muda o rádio para a {freq} FM.",
    ),
    "send_message": (
        "Manda uma mensagem para {contact}: “{message}”.",
        "Escreve para {contact}: “{message}”.",
        "Envia um SMS para {contact} dizendo “{message}”.",
        "Você pode mandar “{message}” para {contact}?",
        "Mensagem para {contact}: {message}.",
        "Diz para {contact}: “{message}”.",
    ),
    "set_alarm": (
        "Coloca um alarme {date} {time}.",
        "Me acorda {date} {time}.",
        "Cria um alarme {time}.",
        "Preciso de um alarme {date} {time}.",
        "Programa meu despertador {date} {time}, por favor.",
        "Alarme {date} {time}, por favor.",
    ),
    "set_reminder": (
        "Me lembra de {task} {date} {time}.",
        "Cria um lembrete {time} para {task}.",
        "Me lembra {date} de {task}.",
        "Não me deixa esquecer de {task} {date}.",
        "Coloca um lembrete {date} {time}: {task}.",
        "Você pode me lembrar de {task} {time}?",
    ),
    "set_thermostat": (
        "Ajusta o termostato para {degrees} graus.",
        "Coloca o aquecedor em {degrees} graus {room}.",
        "Quero {degrees} graus {room}.",
        "Aumenta o aquecedor para {degrees} graus {time}.",
        "Muda a temperatura {room} para {degrees} graus.",
        "Programa o ar-condicionado para {degrees} graus {time}.",
    ),
    "set_timer": (
        "Coloca um timer de {duration}.",
        "Coloca um timer de {duration} {label}.",
        "Timer de {duration}, por favor.",
        "Inicia um timer {label}: {duration}.",
        "Faz uma contagem regressiva de {duration}.",
        "Você pode marcar {duration} {label}?",
    ),
    "translate_phrase": (
        "Como se diz “{phrase}” em {lang}?",
        "Traduz “{phrase}” para o {lang}.",
        "O que é “{phrase}” em {lang}?",
        "Você pode traduzir “{phrase}” para o {lang}?",
        "Como eu digo “{phrase}” em {lang}?",
        "Fala “{phrase}” em {lang}.",
    ),
    "turn_on_lights": (
        "Acende a luz {room}.",
        "Liga as lâmpadas {room}.",
        "Coloca as luzes {room} em {percent}%.",
        "Muda a cor da luz {room} para {color}.",
        "Diminui a luz {room} para {percent}%.",
        "Troca a luz {room} para {color}.",
        "Acende a luminária {room} com {percent}% de brilho.",
    ),
}

SLOTS: dict[str, str] = {
    "artist": "Anitta|Caetano Veloso|Gilberto Gil|Marisa Monte|Jorge Ben Jor|Ivete Sangalo|Tom Jobim|"
    "Elis Regina|Roberto Carlos|Seu Jorge|Ludmilla|Djavan|Adele|Coldplay|Mariza",
    "city": "São Paulo|Brasília|Salvador|Fortaleza|Belo Horizonte|Manaus|Curitiba|Santos|Porto Alegre|Belém|"
    "Florianópolis|Lisboa|Coimbra|Luanda|Maputo|Campinas|Natal|Goiânia|Vitória|Niterói",
    "color": "vermelho|azul|verde|branco quente|roxo|laranja|amarelo|rosa",
    "contact": "minha mãe|meu pai|minha avó|Ana|João|Mariana|Pedro|Juliana|Lucas|Camila|Rafael|Beatriz|"
    "meu irmão|minha irmã|tia Sônia|Gabriel|Larissa|Thiago|Fernanda|Ahmed",
    "cuisine": "italiano|mexicano|japonês|indiano|tailandês|francês|chinês|árabe|grego|peruano|coreano|"
    "português",
    "date": "hoje|amanhã|na segunda|na terça|na quarta|na quinta|na sexta|no sábado|no domingo|"
    "depois de amanhã",
    "day": "hoje|amanhã|hoje à noite|neste fim de semana|hoje à tarde|na segunda|na terça|na quarta|"
    "na quinta|na sexta|no sábado|no domingo|na semana que vem|amanhã de manhã",
    "dish": "lasanha|frango ao curry|pad thai|tacos|sushi|pizza margherita|feijoada|paella|panquecas|lámen|"
    "falafel|risoto de cogumelos|arroz frito|moqueca|pão de queijo|coxinha|brigadeiro|escondidinho|"
    "bolo de cenoura|torta de maçã",
    "duration": "cinco minutos|dez minutos|quinze minutos|vinte minutos|meia hora|quarenta e cinco minutos|"
    "uma hora|noventa segundos|três minutos|duas horas|doze minutos|sete minutos",
    "event": "minha consulta no dentista|a reunião da equipe|minha aula de ioga|a reunião de pais|meu voo|"
    "a consulta médica|o almoço com a Ana|a revisão do projeto|meu horário no cabeleireiro|o clube do livro|"
    "o jantar na casa dos meus pais|a entrevista de emprego",
    "genre": "jazz|música clássica|rock|samba|bossa nova|forró|sertanejo|MPB|funk|pagode",
    "item": "leite|ovos|pão|manteiga|maçãs|bananas|café|arroz|azeite|tomates|queijo|frango|macarrão|"
    "suco de laranja|iogurte|cebolas|alho|detergente|papel higiênico|mel|cenouras|espinafre|farinha|açúcar",
    "label": "para o macarrão|para os ovos|para o arroz|para a pizza|para a roupa|para os biscoitos|"
    "para o chá|para o pão|para a soneca|para o bolo",
    "lang": "inglês|espanhol|alemão|japonês|hindi|árabe|italiano|francês|tâmil|telugo|marati",
    "list": "lista de compras|lista do mercado|lista da festa|lista da semana",
    "message": "estou atrasado|chego em casa em dez minutos|o jantar está pronto|você pode comprar leite?|"
    "feliz aniversário|te encontro na estação|a reunião mudou para as três|me liga quando puder|"
    "acabei de pousar|não esquece as chaves|boa sorte hoje|obrigado por tudo",
    "party": "duas|três|quatro|cinco|seis|sete|oito|dez|doze",
    "past": "ontem|ontem à noite|no sábado|no domingo|no fim de semana passado|na quarta",
    "phone": "no celular|no fixo|no trabalho|no escritório",
    "phrase": "bom dia|muito obrigado|onde fica a estação|quanto custa isso|eu queria um café|"
    "prazer em conhecer|até amanhã|não entendi|você pode me ajudar|a conta, por favor|onde fica o banheiro|"
    "feliz aniversário",
    "place": "o aeroporto|a rodoviária|o centro|o trabalho|o hospital|o shopping|o estádio|a praia|"
    "a faculdade|a estação|o museu|o hotel|o escritório",
    "ptopic": "história|ciência|culinária|crimes reais|tecnologia|humor|negócios|astronomia|viagens|"
    "filosofia|esportes|psicologia",
    "room": "na cozinha|na sala|no quarto|no banheiro|no escritório|no corredor|na sala de jantar|"
    "na garagem|no quarto das crianças|no porão",
    "task": "ligar para o dentista|tirar o lixo|regar as plantas|buscar as crianças|pagar a conta de luz|"
    "comprar um presente de aniversário|tomar meu remédio|dar comida para o gato|reservar o voo|"
    "enviar o relatório|passear com o cachorro|carregar o celular|renovar o passaporte|ligar para a vovó",
    "team": "o Flamengo|o Corinthians|o Palmeiras|o São Paulo|o Santos|o Grêmio|o Internacional|o Cruzeiro|"
    "o Atlético Mineiro|o Fluminense|o Vasco|o Botafogo|o Benfica|o Bahia",
    "time": "às 6h|às 6h30|às 7h|às 7h15|às 8h|às 9h45|ao meio-dia|às 13h|às 14h30|às 16h|às 17h45|às 19h|"
    "às 19h30|às 20h|às 21h|às 22h15",
    "topic": "esporte|política|economia|tecnologia|ciência|saúde|cultura|cinema|meio ambiente|educação|"
    "música|futebol",
    "word": "saudade|efêmero|melancolia|nostalgia|resiliência|ubíquo|benevolente|paradigma|ambíguo|"
    "meticuloso|eloquente|pragmático|franco|frugal|tenaz|caprichoso|nuance|lúcido|empatia|integridade|"
    "consolo|inefável|lacônico|cafuné|xodó|gambiarra|cafona|jeitinho|perrengue|desabafo",
}
